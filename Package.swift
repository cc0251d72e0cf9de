// swift-tools-version: 6.1
import PackageDescription

/// Thresh: web archives to language-model training corpora.
///
/// Layering (dependencies point downwards only):
/// `thresh` (CLI) → stages (`ThreshWARC`, `ThreshExtract`) → `ThreshIO` → `ThreshCore`, with one C module per
/// system library (`CThreshZlib`, `CThreshZstd`, `CThreshDeflate`, `CThreshISAL` (ISA-L's CRC32), `CThreshBrotli`
/// and `CThreshLz4` wrapped by `ThreshIO`; `CThreshCrypto` (libcrypto's SHA-1/SHA-256) by `ThreshCore`;
/// `CThreshICU` (IDNA host names; regular expressions for `ThreshFilters`' PII stage) and `CThreshUchardet` (charset detection) by `ThreshWARC`; `CThreshXML` (libxml2) wrapped by `ThreshExtract`), and `CThreshKernels`, the project's
/// own SIMD loops (MinHash) with run-time CPU dispatch, wrapped by `ThreshDedup`.
let package = Package(
    name: "Thresh",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "thresh", targets: ["thresh"]),
        .library(name: "ThreshCore", targets: ["ThreshCore"]),
        .library(name: "ThreshIO", targets: ["ThreshIO"]),
        .library(name: "ThreshWARC", targets: ["ThreshWARC"]),
        .library(name: "ThreshExtract", targets: ["ThreshExtract"]),
        .library(name: "ThreshQuality", targets: ["ThreshQuality"]),
        .library(name: "ThreshDedup", targets: ["ThreshDedup"]),
        .library(name: "ThreshShards", targets: ["ThreshShards"]),
        .library(name: "ThreshFastText", targets: ["ThreshFastText"]),
        .library(name: "ThreshFilters", targets: ["ThreshFilters"]),
        .library(name: "ThreshPipeline", targets: ["ThreshPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Slurm's commands (sbatch, squeue, scontrol) run as child processes with stdout and stderr apart; no Foundation.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2", traits: []),
    ],
    targets: [
        // C shims: each includes one system library's header and adds what Swift cannot import (macros).
        .target(
            name: "CThreshZlib",
            linkerSettings: [.linkedLibrary("z")]
        ),
        .target(
            name: "CThreshZstd",
            linkerSettings: [.linkedLibrary("zstd")]
        ),
        .target(
            name: "CThreshDeflate",
            linkerSettings: [.linkedLibrary("deflate")]
        ),
        .target(
            name: "CThreshISAL",
            linkerSettings: [.linkedLibrary("isal")]
        ),
        .target(
            name: "CThreshBrotli",
            linkerSettings: [.linkedLibrary("brotlidec")]
        ),
        .target(
            name: "CThreshLz4",
            linkerSettings: [.linkedLibrary("lz4")]
        ),
        .target(
            name: "CThreshICU",
            linkerSettings: [.linkedLibrary("icuuc"), .linkedLibrary("icui18n")]
        ),
        .target(
            name: "CThreshCrypto",
            linkerSettings: [.linkedLibrary("crypto")]
        ),
        .target(name: "CThreshKernels"),
        .systemLibrary(
            name: "CThreshUchardet",
            pkgConfig: "uchardet",
            providers: [.apt(["libuchardet-dev"])]
        ),
        .systemLibrary(
            name: "CThreshXML",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(name: "ThreshCore", dependencies: ["CThreshCrypto"]),
        .target(
            name: "ThreshIO",
            dependencies: ["ThreshCore", "CThreshZlib", "CThreshZstd", "CThreshDeflate", "CThreshISAL", "CThreshBrotli", "CThreshLz4"]
        ),
        .target(name: "ThreshWARC", dependencies: ["ThreshCore", "ThreshIO", "CThreshICU", "CThreshUchardet"]),
        .target(name: "ThreshExtract", dependencies: ["ThreshCore", "CThreshXML"]),
        .target(name: "ThreshQuality", dependencies: ["ThreshCore", "ThreshIO"]),
        .target(name: "ThreshDedup", dependencies: ["ThreshCore", "ThreshIO", "ThreshQuality", "CThreshKernels"]),
        .target(name: "ThreshShards", dependencies: ["ThreshCore", "ThreshIO"]),
        .target(name: "ThreshFastText", dependencies: ["ThreshCore", "ThreshIO"]),
        // Heuristic filters (Gopher, C4, FineWeb, URL) as datatrove decides them, with a port of spaCy's English
        // tokenizer; --keep expressions.
        .target(name: "ThreshFilters", dependencies: ["ThreshCore", "ThreshIO", "CThreshICU"]),
        .target(name: "ThreshPipeline", dependencies: [
            "ThreshCore", "ThreshIO", "ThreshWARC", "ThreshExtract", "ThreshQuality", "ThreshDedup", "ThreshShards", "ThreshFastText", "ThreshFilters",
            .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        .executableTarget(
            name: "thresh",
            dependencies: [
                "ThreshCore", "ThreshIO", "ThreshWARC", "ThreshExtract", "ThreshQuality", "ThreshDedup", "ThreshShards", "ThreshFastText", "ThreshFilters", "ThreshPipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Shared by the test targets: paths to fixtures and to ../shared/data, and the CI rule for missing data.
        .target(name: "ThreshTestSupport", dependencies: ["ThreshCore", "ThreshIO"], path: "Tests/ThreshTestSupport"),
        .testTarget(name: "ThreshCoreTests", dependencies: ["ThreshCore", "ThreshTestSupport"]),
        .testTarget(name: "ThreshIOTests", dependencies: ["ThreshCore", "ThreshIO", "ThreshTestSupport"]),
        .testTarget(name: "ThreshWARCTests", dependencies: ["ThreshCore", "ThreshIO", "ThreshWARC", "ThreshTestSupport"]),
        .testTarget(name: "ThreshExtractTests", dependencies: ["ThreshCore", "ThreshIO", "ThreshWARC", "ThreshExtract", "ThreshTestSupport"]),
        .testTarget(name: "ThreshQualityTests", dependencies: ["ThreshCore", "ThreshIO", "ThreshQuality", "ThreshTestSupport"]),
        .testTarget(name: "ThreshDedupTests", dependencies: ["ThreshCore", "ThreshIO", "ThreshQuality", "ThreshDedup", "ThreshShards", "ThreshPipeline", "ThreshTestSupport"]),
        .testTarget(name: "ThreshShardsTests", dependencies: ["ThreshCore", "ThreshIO", "ThreshShards", "ThreshTestSupport"]),
        .testTarget(name: "ThreshFastTextTests", dependencies: ["ThreshCore", "ThreshIO", "ThreshFastText", "ThreshTestSupport"]),
        .testTarget(name: "ThreshFiltersTests", dependencies: ["ThreshCore", "ThreshIO", "ThreshFilters", "ThreshTestSupport"]),
        .testTarget(name: "ThreshCLITests", dependencies: ["ThreshCore", "ThreshIO", "ThreshTestSupport"]),
        .testTarget(name: "ThreshPipelineTests", dependencies: ["ThreshCore", "ThreshIO", "ThreshDedup", "ThreshPipeline", "ThreshTestSupport"]),
    ]
)

// Strict settings once, for every Swift target (swift-log's pattern).
for target in package.targets where target.type != .system && !target.name.hasPrefix("CThresh") {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
