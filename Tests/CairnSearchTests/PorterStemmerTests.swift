import CairnSearch
import Testing

@Suite struct PorterStemmerTests {
    let stemmer = PorterStemmer()

    /// The examples of Porter's paper, step by step, as the reference implementation stems
    /// them through all five steps.
    @Test(arguments: [
        ("caresses", "caress"), ("ponies", "poni"), ("ties", "ti"), ("caress", "caress"), ("cats", "cat"),
        ("feed", "feed"), ("agreed", "agre"), ("plastered", "plaster"), ("bled", "bled"), ("motoring", "motor"), ("sing", "sing"),
        ("conflated", "conflat"), ("troubled", "troubl"), ("sized", "size"), ("hopping", "hop"), ("tanned", "tan"),
        ("falling", "fall"), ("hissing", "hiss"), ("fizzed", "fizz"), ("failing", "fail"), ("filing", "file"),
        ("happy", "happi"), ("sky", "sky"),
        ("relational", "relat"), ("conditional", "condit"), ("rational", "ration"), ("valenci", "valenc"), ("hesitanci", "hesit"),
        ("digitizer", "digit"), ("conformabli", "conform"), ("radicalli", "radic"), ("differentli", "differ"), ("vileli", "vile"),
        ("analogousli", "analog"), ("vietnamization", "vietnam"), ("predication", "predic"), ("operator", "oper"),
        ("feudalism", "feudal"), ("decisiveness", "decis"), ("hopefulness", "hope"), ("callousness", "callous"),
        ("formaliti", "formal"), ("sensitiviti", "sensit"), ("sensibiliti", "sensibl"),
        ("triplicate", "triplic"), ("formative", "form"), ("formalize", "formal"), ("electriciti", "electr"),
        ("electrical", "electr"), ("hopeful", "hope"), ("goodness", "good"),
        ("revival", "reviv"), ("allowance", "allow"), ("inference", "infer"), ("airliner", "airlin"), ("gyroscopic", "gyroscop"),
        ("adjustable", "adjust"), ("defensible", "defens"), ("irritant", "irrit"), ("replacement", "replac"),
        ("adjustment", "adjust"), ("dependent", "depend"), ("adoption", "adopt"), ("homologou", "homolog"), ("communism", "commun"),
        ("activate", "activ"), ("angulariti", "angular"), ("homologous", "homolog"), ("effective", "effect"),
        ("bowdlerize", "bowdler"),
        ("probate", "probat"), ("rate", "rate"), ("cease", "ceas"), ("controll", "control"), ("roll", "roll"),
        ("generalizations", "gener"), ("oscillators", "oscil"),
    ])
    func stemsThePapersExamples(word: String, stem: String) {
        #expect(stemmer.stem(word) == stem)
    }

    /// The reference implementation's two departures from the paper, which Lucene keeps:
    /// -bli becomes -ble (not -abli → -able) and -logi becomes -log.
    @Test func followsTheReferenceImplementationsDepartures() {
        #expect(stemmer.stem("possibly") == "possibl")
        #expect(stemmer.stem("archeology") == "archeolog")
        #expect(stemmer.stem("archeological") == "archeolog")
    }

    /// Stems of ordinary vocabulary, generated with NLTK's `PorterStemmer` in its
    /// MARTIN_EXTENSIONS mode, which reproduces Martin Porter's reference C implementation
    /// (checked to agree with this stemmer on 88,000 words taken from Python's sources).
    @Test func stemsReferenceVocabulary() {
        let fixture = """
            added ad, allocated alloc, alphabetically alphabet, alternatives altern, anonymous anonym,
            applying appli, approximation approxim, arbitrarily arbitrarili, arrays arrai,
            assessments assess, associations associ, attachment attach, attachments attach,
            authenticate authent, authenticated authent, authorizations author, automatically automat,
            autoscaling autosc, availability avail, bidirectional bidirect, boundary boundari,
            browse brows, buffering buffer, business busi, canned can, cannibalism cannib,
            capabilities capabl, capacities capac, capitalized capit, certificates certif,
            characters charact, closed close, collection collect, communicate commun,
            communicating commun, communication commun, compatibility compat, completed complet,
            concurrency concurr, conductance conduct, connectivity connect, considered consid,
            controlled control, cubical cubic, cumulative cumul, customized custom, datum datum, days dai,
            delayed delai, delegates deleg, denominator denomin, dependencies depend, descendants descend,
            deterministic determinist, difference differ, differently differ, direction direct,
            directional direct, directive direct, directives direct, discovered discov,
            displacement displac, dominance domin, dotted dot, dropped drop, duplicates duplic,
            effectively effect, efficiently effici, eligible elig, embedded embed, embedding embed,
            embeddings embed, encountering encount, entirely entir, entitlements entitl,
            enumerators enumer, exceeds exce, experiment experi, facing face, formatter formatt,
            frequencies frequenc, frequency frequenc, frequently frequent, functionality function,
            generalization gener, identical ident, identity ident, infeasible infeas,
            initialization initi, initializer initi, initializing initi, install instal, installed instal,
            instantiate instanti, international intern, invariant invari, invariants invari,
            invocations invoc, isolated isol, isomorphism isomorph, isomorphisms isomorph,
            iteratively iter, keyed kei, logged log, logging log, logically logic, management manag,
            mappings map, mechanisms mechan, miscellaneous miscellan, moving move, multiplicative multipl,
            nonnegative nonneg, normalizing normal, notifications notif, observability observ,
            occurred occur, occurrences occurr, offerings offer, operation oper, optimization optim,
            organizational organiz, organizations organ, originating origin, overlapping overlap,
            padding pad, parallelism parallel, parameterized parameter, partially partial,
            partitioned partit, partitioning partit, personalize person, potentials potenti,
            powerful power, preferences prefer, primitives primit, probabilities probabl,
            probability probabl, processing process, proposals propos, provisioned provis,
            provisioning provis, ragged rag, reachability reachabl, recursively recurs, redundancy redund,
            redundant redund, referred refer, registering regist, relatively rel, relied reli,
            replaceable replac, representative repres, represented repres, representing repres,
            represents repres, requirements requir, residual residu, resilience resili, scanned scan,
            scanning scan, seconds second, separately separ, separating separ, separators separ,
            serialization serial, serializer serial, serializers serial, serializing serial,
            simplicity simplic, simulate simul, simulator simul, slotted slot, spanning span,
            specifications specif, specificity specif, splitting split, stateful state,
            statistics statist, stripped strip, subscribers subscrib, suggestions suggest,
            suspicious suspici, tagging tag, topological topolog, topology topolog, traced trace,
            translator translat, trimmed trim, tripping trip, typically typic, underlying underli,
            unfortunately unfortun, uniquely uniqu, uniqueness uniqu, useful us, utilities util,
            vacancies vacanc, verification verif, witness wit
            """
        let pairs = fixture.split(separator: ",").map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
        #expect(pairs.count == 200)
        for pair in pairs {
            #expect(stemmer.stem(pair[0]) == pair[1], "stem of \(pair[0])")
        }
    }

    @Test func leavesWordsOfOneOrTwoLettersAlone() {
        for word in ["s", "is", "as", "ed", "ly"] { #expect(stemmer.stem(word) == word) }
        #expect(stemmer.stem("") == "")
    }

    /// Non-ASCII letters count as consonants and are never cut: U+1041 is E1 81 81 in UTF-8,
    /// whose last two bytes a byte-wise "double consonant" rule would split.
    @Test func keepsNonASCIIScalarsWhole() {
        #expect(stemmer.stem("ta\u{1041}ed") == "ta\u{1041}")
        #expect(stemmer.stem("caf\u{E9}s") == "caf\u{E9}")
    }
}
