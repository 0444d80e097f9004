public import CairnCore
public import CairnDocuments
import CairnStore

/// One tenant's index: the chunks of the versions its documents serve (and their newest ready
/// drafts), with what the access check needs per slot.
///
/// Tenancy is absolute because partitions are: a query only ever runs against its own tenant's
/// partition, and BM25's collection statistics are the tenant's own, so not even term
/// frequencies leak between tenants.
struct IndexPartition: Sendable {
    var index: HybridIndex
    /// The last change-feed sequence applied.
    private(set) var appliedSequence: Int64
    private var documents: [DocumentID: IndexedDocumentEntry] = [:]
    /// Per slot: the chunk, its document's entry index, and whether its version is the served
    /// one or the draft. Rebuilt for a document's slots whenever its state is applied.
    private var slots: [SlotEntry?] = []
    private var slotsByVersion: [DocumentVersionID: [IndexSlot]] = [:]
    /// Document states by a dense index, so a query's access check is an array walk.
    private var entries: [IndexFeed.IndexedDocument?] = []
    private var freeEntries: [Int32] = []

    struct SlotEntry: Sendable {
        let chunk: StoredChunk
        let entry: Int32
        var role: VersionRole
    }

    enum VersionRole: UInt8, Sendable {
        case served
        case draft
    }

    private struct IndexedDocumentEntry: Sendable {
        let entry: Int32
        var state: IndexFeed.IndexedDocument
    }

    init(dimension: Int?, appliedSequence: Int64) {
        self.index = HybridIndex(dimension: dimension)
        self.appliedSequence = appliedSequence
    }

    var chunkCount: Int { index.count }

    /// The versions this partition holds chunks for.
    var loadedVersions: Set<DocumentVersionID> { Set(slotsByVersion.keys) }

    /// Brings documents to their new states, loading the given chunks for versions not held
    /// yet, and records `sequence` as applied. Synchronous on purpose: a search sees the
    /// partition either wholly before or wholly after, never between (no mixed versions).
    mutating func apply(states: [IndexFeed.IndexedDocument], removed: [DocumentID], chunks: [StoredChunk], through sequence: Int64) {
        let chunksByVersion = Dictionary(grouping: chunks, by: \.versionID)
        for id in removed { drop(id) }
        for state in states {
            let wanted = Set(state.indexedVersions)
            let entry: Int32
            if var existing = documents[state.id] {
                for version in Set(existing.state.indexedVersions).subtracting(wanted) { unload(version) }
                existing.state = state
                documents[state.id] = existing
                entry = existing.entry
                entries[Int(entry)] = state
            } else {
                guard !wanted.isEmpty else { continue }
                entry = freeEntries.popLast() ?? Int32(entries.count)
                if Int(entry) == entries.count { entries.append(state) } else { entries[Int(entry)] = state }
                documents[state.id] = IndexedDocumentEntry(entry: entry, state: state)
            }
            for version in wanted where slotsByVersion[version] == nil {
                slotsByVersion[version] = (chunksByVersion[version] ?? []).map { chunk in
                    let slot = index.insert(key: chunk.id.description, text: chunk.text, vector: chunk.embedding)
                    let item = SlotEntry(chunk: chunk.withoutEmbedding, entry: entry, role: .served)
                    if Int(slot) == slots.count { slots.append(item) } else { slots[Int(slot)] = item }
                    return slot
                }
            }
            for version in wanted {
                let role: VersionRole = version == state.servedVersion ? .served : .draft
                for slot in slotsByVersion[version] ?? [] { slots[Int(slot)]?.role = role }
            }
            if wanted.isEmpty { drop(state.id) }
        }
        appliedSequence = max(appliedSequence, sequence)
    }

    private mutating func drop(_ id: DocumentID) {
        guard let existing = documents.removeValue(forKey: id) else { return }
        for version in existing.state.indexedVersions { unload(version) }
        entries[Int(existing.entry)] = nil
        freeEntries.append(existing.entry)
    }

    private mutating func unload(_ version: DocumentVersionID) {
        for slot in slotsByVersion.removeValue(forKey: version) ?? [] {
            index.remove(slot)
            slots[Int(slot)] = nil
        }
    }

    /// The slots `principal` may retrieve: the access policy applied before ranking.
    ///
    /// Without drafts, only chunks of each document's served (approved, active) version; with
    /// drafts, each document's newest ready draft takes its served version's place.
    func allowedSlots(for principal: Principal, filter: SearchFilter) -> SlotSet {
        var admitted = [Bool](repeating: false, count: entries.count)
        var hasDraft = [Bool](repeating: false, count: entries.count)
        for (position, state) in entries.enumerated() {
            guard let state, state.policy.admits(principal), filter.admits(state) else { continue }
            admitted[position] = true
            hasDraft[position] = state.draftVersion != nil
        }
        var allowed = SlotSet(capacity: slots.count)
        for (slot, item) in slots.enumerated() {
            guard let item, admitted[Int(item.entry)] else { continue }
            let visible =
                switch item.role {
                case .served: !filter.includeDrafts || !hasDraft[Int(item.entry)]
                case .draft: filter.includeDrafts
                }
            if visible { allowed.insert(IndexSlot(slot)) }
        }
        return allowed
    }

    /// The chunk in `slot` and its document's state.
    func entry(at slot: IndexSlot) -> (chunk: StoredChunk, document: IndexFeed.IndexedDocument)? {
        guard Int(slot) < slots.count, let item = slots[Int(slot)], let document = entries[Int(item.entry)] else { return nil }
        return (item.chunk, document)
    }
}

extension StoredChunk {
    /// The chunk without its vector: the index holds that already, and the slot table need not
    /// hold 1.5 KB more per chunk.
    var withoutEmbedding: StoredChunk {
        StoredChunk(
            id: id,
            documentID: documentID,
            versionID: versionID,
            position: position,
            text: text,
            firstPage: firstPage,
            lastPage: lastPage,
            spansJSON: spansJSON,
            headingPath: headingPath,
            embedding: nil
        )
    }
}

/// Narrowing a search beyond the access policy.
public struct SearchFilter: Sendable, Equatable {
    /// Only this collection.
    public var collection: CollectionID?
    /// Only these documents.
    public var documents: Set<DocumentID>?
    /// Only documents carrying every one of these tags.
    public var tags: [String]
    /// Search each document's newest ready draft instead of its approved version (curators).
    public var includeDrafts: Bool

    public init(collection: CollectionID? = nil, documents: Set<DocumentID>? = nil, tags: [String] = [], includeDrafts: Bool = false) {
        self.collection = collection
        self.documents = documents
        self.tags = tags
        self.includeDrafts = includeDrafts
    }

    func admits(_ document: IndexFeed.IndexedDocument) -> Bool {
        if let collection, document.collectionID != collection { return false }
        if let documents, !documents.contains(document.id) { return false }
        return tags.allSatisfy(document.tags.contains)
    }
}
