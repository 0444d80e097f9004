import CairnCore
import Foundation
import Testing

@testable import CairnIngest

@Suite("HTML parsing")
struct HTMLParserTests {
    func parsed(_ html: String, limits: ParsingLimits = ParsingLimits(timeLimit: .seconds(60))) async throws -> ParsedPage {
        try await parsed(Data(html.utf8), limits: limits)
    }

    func parsed(_ html: Data, limits: ParsingLimits = ParsingLimits(timeLimit: .seconds(60))) async throws -> ParsedPage {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let document = try await DocumentParser(limits: limits).parse(contentsOf: try folder.write("page.html", html), format: .html)
        let page = try #require(document.pages.first)
        expectExactRanges(page)
        return page
    }

    @Test("Only the main text is kept: head, banner, navigation, scripts, styles, forms and footer are dropped")
    func mainText() async throws {
        let page = try await parsed(
            """
            <!DOCTYPE html>
            <html lang="en"><head><title>Rates | Bank</title><style>p { color: red }</style>
            <script>var markup = "<p>not text</p>";</script></head>
            <body>
            <header><a href="/">Bank</a><nav><ul><li>Home</li><li>Rates</li></ul></nav></header>
            <div class="intro">Outside main.</div>
            <main>
              <h1>Savings   rates</h1>
              <p>Rates are   reviewed
                 <b>monthly</b> &amp; published <a href="/x">here</a>.</p>
              <ul><li>Instant access</li><li>Fixed term<ul><li>One year</li></ul></li></ul>
              <table><caption>Rates</caption>
                <tr><th>Account</th><th>Rate</th></tr>
                <tr><td>Instant</td><td><p>1.5%</p><p>variable</p></td></tr>
                <tr><td></td><td></td></tr>
              </table>
              <h2>Example</h2>
              <pre>
            rate = base
              + margin</pre>
              <p>Line one<br>line two</p>
              <form><label>Email</label><button>Subscribe</button></form>
              <script>document.write("no")</script>
              <aside>Related links</aside>
            </main>
            <footer>© Bank</footer>
            </body></html>
            """
        )
        #expect(
            page.blockTexts == [
                ["Savings rates"],
                ["Rates are reviewed monthly & published here."],
                ["Instant access"],
                ["Fixed term"],
                ["One year"],
                ["Rates", "Account | Rate", "Instant | 1.5% variable"],
                ["Example"],
                ["rate = base", "  + margin"],
                ["Line one", "line two"],
            ]
        )
        #expect(page.lines.map(\.fontSize) == [20, 10, 10, 10, 10, 10, 10, 10, 17, 10, 10, 10, 10])
    }

    @Test("Without main, the articles are kept; without either, the whole body")
    func articles() async throws {
        let articles = try await parsed(
            """
            <body><div>Cookie banner</div>
            <article><header><h2>First story</h2></header><p>First text.</p><footer>By someone</footer></article>
            <aside>Sidebar</aside>
            <article><p>Second text.</p></article></body>
            """
        )
        #expect(articles.blockTexts == [["First story"], ["First text."], ["By someone"], ["Second text."]])

        let plain = try await parsed("<body><div>One</div>Two<section>Three</section></body>")
        #expect(plain.blockTexts == [["One"], ["Two"], ["Three"]])
    }

    @Test("Character references are decoded; unknown ones are left as written")
    func references() async throws {
        let page = try await parsed("<p>&lt;b&gt; &quot;A&quot; &copy;&#169;&#xA9; &euro;5 &mdash; &frac12; &unknown; &amp &#0; &#128;</p>")
        #expect(page.text == "<b> \"A\" ©©© €5 — ½ &unknown; &amp \u{FFFD} €\n")
    }

    @Test("Bytes that are not UTF-8 are read as Windows-1252")
    func windows1252() async throws {
        let page = try await parsed(
            Data("<p>Caf".utf8) + Data([0xE9, 0x20, 0x93]) + Data("quoted".utf8) + Data([0x94, 0x20, 0x80]) + Data("5</p>".utf8)
        )
        #expect(page.text == "Café “quoted” €5\n")
    }

    @Test("A page of 50,000 scripts and one paragraph yields exactly the paragraph")
    func scripts() async throws {
        let scripts = String(repeating: "<script>if (a < b) { document.write('<p>no</p>') }</script>\n", count: 50_000)
        let page = try await parsed("<html><head>\(scripts)</head><body>\(scripts)<p>The only text.</p>\(scripts)</body></html>")
        #expect(page.text == "The only text.\n")
    }

    @Test("A page with nothing but scripts has no main text")
    func onlyScripts() async throws {
        await #expect {
            _ = try await parsed("<html><body><script>alert(1)</script><nav>Menu</nav><style>p{}</style></body></html>")
        } throws: { ($0 as? CairnError)?.message == "The HTML page has no main text." }
    }

    @Test("Broken markup still yields its text: unclosed elements, stray end tags, a missing head end, comments, CDATA")
    func malformed() async throws {
        let page = try await parsed(
            """
            <html><head><title>T</title><p>First<p>Second</span></div><!-- a comment with <p>markup</p> -->
            <ul><li>One<li>Two</ul><div/>After<![CDATA[ raw <text> ]]><table><tr><td>a<td>b<tr><td>c</table>
            <h3>Open heading<p>Then <i>text <b>unclosed
            """
        )
        #expect(
            page.blockTexts == [
                ["First"], ["Second"], ["One"], ["Two"], ["After raw <text>"], ["a | b", "c"], ["Open heading"], ["Then text unclosed"],
            ]
        )
    }

    @Test("Hostile markup (deep nesting, a huge attribute, an unclosed comment) is parsed within the time limit")
    func hostile() async throws {
        let nested = String(repeating: "<div><span>", count: 100_000) + "Deep." + String(repeating: "</b>", count: 100_000)
        let attribute = "<p title=\"" + String(repeating: "x", count: 20 << 20) + "\">Attributed.</p>"
        // Quadratic work on 20 MB would run into the parser's time limit and fail with its sentence.
        let page = try await parsed(nested + attribute + "<p>End.</p><!-- never closed <p>hidden</p>")
        #expect(page.text.hasPrefix("Deep."))
        #expect(page.text.contains("Attributed.") && page.text.hasSuffix("End.\n"))
    }

    @Test("A page over the size limit fails before it is parsed")
    func sizeLimit() async throws {
        await #expect {
            _ = try await parsed("<p>" + String(repeating: "a", count: 2_000) + "</p>", limits: ParsingLimits(maximumTextBytes: 1_024))
        } throws: { ($0 as? CairnError)?.message == "The file is larger than the 1 KiB limit for text documents." }
    }
}
