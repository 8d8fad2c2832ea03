// swift-tools-version:6.1
// Vigil: one event flows one way: source → decode → detect → group → outbox → sink.
// Every arrow in the target graph below points down that path; read it top to bottom.
import PackageDescription

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries: module map + shim.h only. The shims wrap what Swift cannot import
        // (variadic calls, function-like macros).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // simdjson behind a plain C header (Swift's C++ interop cannot use simdjson.h directly).
        .target(
            name: "CSimdShim",
            cxxSettings: [.define("SIMDJSON_THREADS_ENABLED", to: "1"), .unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("simdjson")]
        ),

        // The JSON document every event is made of, and the parser that builds it.
        .target(name: "FastJSON", dependencies: ["CSimdShim"]),
        // Event, FieldPath, Alert, Incident, Entity, Diagnostic and the stage protocols. No I/O.
        .target(name: "EventModel", dependencies: ["FastJSON"]),
        // bytes → Event: format sniffing, gzip, CSV, framing, one normaliser per log shape.
        .target(name: "EventDecoding", dependencies: ["EventModel", "FastJSON", "CZlib"]),
        // Sigma rules → compiled matchers → alerts; correlations and baselines.
        .target(name: "Detection", dependencies: [
            "EventModel", "FastJSON", "StateStore",
            .product(name: "Yams", package: "Yams"),
        ]),
        // SQLite wrapper and the durable stores (incidents, outbox, checkpoints, baselines).
        .target(name: "StateStore", dependencies: ["EventModel", "CSQLite"]),
        // alerts → incidents: entity keys, windows, deterministic ids.
        .target(name: "Incidents", dependencies: ["EventModel", "StateStore"]),
        // Sinks, the outbox dispatcher, Azure auth and the libcurl HTTP client.
        .target(name: "Outputs", dependencies: [
            "EventModel", "StateStore", "CCurl", "CCrypto", "CZlib", "FastJSON",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Sources: file replay and tail, Event Hubs through Kafka.
        .target(name: "Ingest", dependencies: [
            "EventModel", "EventDecoding", "StateStore", "CRdKafka",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Wires the stages, owns configuration, shutdown and metrics.
        .target(name: "Pipeline", dependencies: [
            "EventModel", "EventDecoding", "Detection", "Incidents", "StateStore", "Outputs", "Ingest",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "vigil", dependencies: [
            "Pipeline", "EventModel", "EventDecoding", "Detection", "Incidents", "StateStore", "Outputs", "Ingest",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .target(name: "TestSupport", dependencies: ["EventModel", "FastJSON", .product(name: "Logging", package: "swift-log")],
                path: "Tests/TestSupport"),
        .testTarget(name: "FastJSONTests", dependencies: ["FastJSON", "TestSupport"]),
        .testTarget(name: "EventModelTests", dependencies: ["EventModel", "TestSupport"]),
        .testTarget(name: "EventDecodingTests", dependencies: ["EventDecoding", "TestSupport"]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "EventDecoding", "StateStore", "TestSupport", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "StateStoreTests", dependencies: ["StateStore", "TestSupport"]),
        .testTarget(name: "IncidentsTests", dependencies: ["Incidents", "StateStore", "TestSupport"]),
        .testTarget(name: "OutputsTests", dependencies: ["Outputs", "StateStore", "TestSupport"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "TestSupport"]),
        // End-to-end: runs the built `vigil` binary on real files.
        .testTarget(name: "VigilCLITests", dependencies: ["TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
