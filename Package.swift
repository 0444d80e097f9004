// swift-tools-version:6.2
import PackageDescription

/// Settings for code written by hand. Generated code (CairnAPI) declares its own imports, so it
/// does without InternalImportsByDefault, which would hide Foundation types from the `package`
/// declarations the generator emits.
let generatedCodeSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
let swiftSettings: [SwiftSetting] = generatedCodeSettings + [.enableUpcomingFeature("InternalImportsByDefault")]

let package = Package(
    name: "cairn",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        .executable(name: "cairn-bench", targets: ["cairn-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // Domain types and pure rules: no NIO, no HTTP, no SQL.
        .target(
            name: "CairnCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: swiftSettings
        ),
        // Persistence: one SQL layer (SQLKit) over SQLite and PostgreSQL, migrations, repositories.
        .target(
            name: "CairnStore",
            dependencies: [
                "CairnCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Who is calling: API keys and OIDC bearer tokens, both resolved to a Principal.
        .target(
            name: "CairnIdentity",
            dependencies: [
                "CairnCore",
                "CairnStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Durable jobs: handlers, the worker service (leases, heartbeats, reaper, graceful
        // drain), workflows with compensations, recurring schedules, queue telemetry.
        .target(
            name: "CairnJobs",
            dependencies: [
                "CairnCore",
                "CairnStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Documents and what they serve: collections, versions with their approval lifecycle,
        // page texts, chunks with embeddings, the access policy, and the change feed index
        // replicas catch up from. Ingest writes through it and Search reads through it.
        .target(
            name: "CairnDocuments",
            dependencies: [
                "CairnCore",
                "CairnJobs",
                "CairnStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        // MuPDF 1.21 behind a C shim (Debian `libmupdf-dev`, static only): its fz_try/fz_catch are
        // setjmp macros, so no MuPDF call or longjmp crosses into Swift. Static archives link in
        // dependency order; `mupdf.pc` misses harfbuzz.
        .target(
            name: "CMuPDF",
            linkerSettings: [
                .linkedLibrary("mupdf"), .linkedLibrary("mupdf-third"), .linkedLibrary("mujs"),
                .linkedLibrary("gumbo"), .linkedLibrary("openjp2"), .linkedLibrary("jbig2dec"),
                .linkedLibrary("jpeg"), .linkedLibrary("harfbuzz"), .linkedLibrary("freetype"),
                .linkedLibrary("z"), .linkedLibrary("m"),
            ]
        ),
        // Tesseract 5's C API behind a small shim (Debian `libtesseract-dev`), for OCR.
        .target(name: "CTesseract", linkerSettings: [.linkedLibrary("tesseract")]),
        // OpenBLAS's CBLAS interface (Debian `libopenblas-dev`): the embedder's matrix products.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        // Sentence embeddings, native: all-MiniLM-L6-v2 (WordPiece tokenizer, safetensors
        // weights, BERT encoder over CBLAS, mean pooling), and the sgemm ceiling it is measured by.
        .target(
            name: "CairnEmbed",
            dependencies: [
                "CairnCore",
                "CBLAS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Resources/wordpiece-unicode.json")],
            swiftSettings: swiftSettings
        ),
        // Documents in: parsing (MuPDF, Tesseract for pages without text; DOCX, HTML, Markdown,
        // text) under per-document limits, chunking, and the ingestion saga that stores, parses,
        // chunks, embeds, indexes and activates an uploaded version.
        .target(
            name: "CairnIngest",
            dependencies: [
                "CairnCore",
                "CairnDocuments",
                "CairnEmbed",
                "CairnJobs",
                "CairnStore",
                "CMuPDF",
                "CTesseract",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        // Retrieval: BM25 over an inverted index, vector nearest neighbours (exact over BLAS,
        // IVF above a size), fusion, and the access policy applied inside both retrievers.
        .target(
            name: "CairnSearch",
            dependencies: [
                "CairnCore",
                "CairnDocuments",
                "CairnEmbed",
                "CairnStore",
                "CBLAS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The demo corpus: synthetic bank policies in Markdown, rendered as PDFs to seed a tenant.
        .target(
            name: "CairnDemo",
            swiftSettings: swiftSettings
        ),
        // The grounded assistant: answers built from the approved passages a principal may
        // see, each sentence citing its page, or an honest refusal; and the agent, whose runs
        // advance in jobs and whose side effects wait for a person.
        .target(
            name: "CairnAssistant",
            dependencies: [
                "CairnCore",
                "CairnDocuments",
                "CairnEmbed",
                "CairnGateway",
                "CairnJobs",
                "CairnSearch",
                "CairnStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // JSON Schema 2020-12: compiled once, then validated against with located violations.
        // A general library: the gateway's structured output uses it, and so will extraction.
        .target(
            name: "CairnJSONSchema",
            dependencies: ["CairnCore"],
            swiftSettings: swiftSettings
        ),
        // AWS wire formats, apart from any feature: Signature Version 4 (signer and verifier)
        // and the event-stream codec. Bedrock uses them, and so does the mock that imitates it.
        .target(
            name: "CairnAWS",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: swiftSettings
        ),
        // The model gateway: providers (OpenAI-compatible, Anthropic, Bedrock Converse, mock),
        // routing with retries, circuit breakers and stream-safe failover, virtual-key limits,
        // reserve-then-commit budgets, structured output validated against JSON Schema, the
        // response cache and the usage ledger.
        .target(
            name: "CairnGateway",
            dependencies: [
                "CairnAWS",
                "CairnCore",
                "CairnEmbed",
                "CairnJSONSchema",
                "CairnStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // `mock`, the dev/test model provider: a loopback HTTP server (SwiftNIO directly, for
        // exact control over resets and cut streams) that speaks the OpenAI, Anthropic and
        // Bedrock dialects with scripted replies, latency and injected failures.
        .target(
            name: "CairnMockLLM",
            dependencies: [
                // For SigV4 verification and the AWS event-stream encoder of its Bedrock dialect.
                "CairnAWS",
                "CairnCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The OpenAPI 3.1 document and the code generated from it.
        .target(
            name: "CairnAPI",
            dependencies: [
                "CairnCore",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            resources: [.copy("openapi.yaml")],
            swiftSettings: generatedCodeSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // HTTP: Hummingbird router, OpenAPI handlers, auth, problem details, telemetry middleware.
        .target(
            name: "CairnServer",
            dependencies: [
                "CairnAPI",
                "CairnAssistant",
                "CairnCore",
                "CairnDocuments",
                "CairnGateway",
                "CairnIdentity",
                "CairnIngest",
                "CairnJobs",
                "CairnPipelines",
                "CairnSearch",
                "CairnStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Configuration and wiring both executables share: every setting (command line →
        // environment → file → defaults), the configured database opened for a one-shot
        // command, and the command protocol that turns failures into one sentence.
        .target(
            name: "CairnRuntime",
            dependencies: [
                "CairnCore",
                "CairnDocuments",
                "CairnEmbed",
                "CairnGateway",
                "CairnIdentity",
                "CairnJobs",
                "CairnPipelines",
                "CairnServer",
                "CairnStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // KYC cases and versioned extraction pipelines: deterministic and model-based extractors
        // with provenance, the scoring of extraction-dev, evaluation-gated promotion.
        .target(
            name: "CairnPipelines",
            dependencies: [
                "CairnCore",
                "CairnIngest",
                "CairnJobs",
                "CairnJSONSchema",
                "CairnStore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The thin executable: parses arguments, reads configuration, wires services.
        .executableTarget(
            name: "cairn",
            dependencies: [
                "CairnAssistant",
                "CairnCore",
                "CairnDemo",
                "CairnDocuments",
                "CairnEmbed",
                "CairnGateway",
                "CairnIngest",
                "CairnIdentity",
                "CairnJobs",
                "CairnPipelines",
                "CairnRuntime",
                "CairnSearch",
                "CairnServer",
                "CairnStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks and quality evaluations, kept out of what `serve` runs: the queue against
        // pgbench, embedding against the sgemm ceiling, search at a million chunks, BEIR
        // collections and their scores, the injection screen's confusion counts.
        .target(
            name: "CairnBench",
            dependencies: [
                "CairnAssistant",
                "CairnCore",
                "CairnDocuments",
                "CairnEmbed",
                "CairnJobs",
                "CairnSearch",
                "CairnStore",
                "CBLAS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // `cairn-bench`: the bench and eval commands; `cairn bench …` and `cairn eval …` run it.
        // The only executable that links the mock model server (ADR 0028).
        .executableTarget(
            name: "cairn-bench",
            dependencies: [
                "CairnAssistant",
                "CairnBench",
                "CairnCore",
                "CairnDocuments",
                "CairnEmbed",
                "CairnGateway",
                "CairnIdentity",
                "CairnIngest",
                "CairnJobs",
                "CairnMockLLM",
                "CairnRuntime",
                "CairnSearch",
                "CairnServer",
                "CairnStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared by the test targets: a fresh database per test on either engine.
        .target(
            name: "CairnTestSupport",
            dependencies: [
                "CairnCore",
                "CairnJobs",
                "CairnRuntime",
                "CairnStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/CairnTestSupport",
            swiftSettings: swiftSettings
        ),
        // The client generated from openapi.yaml (client mode over the types CairnAPI generates),
        // for tests that call the API as an integrator would.
        .target(
            name: "CairnAPIClient",
            dependencies: [
                "CairnAPI",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            path: "Tests/CairnAPIClient",
            swiftSettings: generatedCodeSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .testTarget(
            name: "CairnPipelinesTests",
            dependencies: ["CairnCore", "CairnIngest", "CairnPipelines", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnCoreTests",
            dependencies: ["CairnCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnEmbedTests",
            dependencies: ["CairnBench", "CairnCore", "CairnEmbed"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnIngestTests",
            dependencies: [
                "CMuPDF",
                "CairnCore",
                "CairnDocuments",
                "CairnEmbed",
                "CairnIngest",
                "CairnJobs",
                "CairnTestSupport",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnAssistantTests",
            dependencies: [
                "CairnAssistant",
                "CairnBench",
                "CairnCore",
                "CairnDemo",
                "CairnDocuments",
                "CairnEmbed",
                "CairnGateway",
                "CairnIngest",
                "CairnJobs",
                "CairnMockLLM",
                "CairnSearch",
                "CairnStore",
                "CairnTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnSearchTests",
            dependencies: [
                "CairnCore",
                "CairnDocuments",
                "CairnEmbed",
                "CairnJobs",
                "CairnSearch",
                "CairnStore",
                "CairnTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnGatewayTests",
            dependencies: [
                "CairnCore",
                "CairnEmbed",
                "CairnGateway",
                "CairnMockLLM",
                "CairnStore",
                "CairnTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnJSONSchemaTests",
            dependencies: ["CairnCore", "CairnJSONSchema", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnAWSTests",
            dependencies: ["CairnAWS", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnStoreTests",
            dependencies: [
                "CairnCore",
                "CairnRuntime",
                "CairnStore",
                "CairnTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnJobsTests",
            dependencies: [
                "CairnCore",
                "CairnJobs",
                "CairnRuntime",
                "CairnStore",
                "CairnTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnIdentityTests",
            dependencies: [
                "CairnCore",
                "CairnIdentity",
                "CairnStore",
                "CairnTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnServerTests",
            dependencies: [
                "CairnAPI",
                "CairnAPIClient",
                "CairnAssistant",
                "CairnCore",
                "CairnDocuments",
                "CairnEmbed",
                "CairnGateway",
                "CairnIdentity",
                "CairnIngest",
                "CairnJobs",
                "CairnMockLLM",
                "CairnRuntime",
                "CairnSearch",
                "CairnServer",
                "CairnStore",
                "CairnTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
