// swift-tools-version: 6.1
// libvoicetelemetry: a Swift core behind the C ABI in include/voicetelemetry.h.
import PackageDescription

let exportsMap = "\(Context.packageDirectory)/Sources/VoiceTelemetry/exports.map"

let package = Package(
    name: "voicetelemetry",
    products: [
        .library(name: "voicetelemetry", type: .dynamic, targets: ["VoiceTelemetry"]),
    ],
    targets: [
        // The hand-written header, imported as a module so `@c @implementation` is checked against it.
        .systemLibrary(name: "CVoiceTelemetry", path: "include"),
        // Compiler builtins Swift cannot spell (static inline, nothing exported).
        .systemLibrary(name: "CShims", path: "Sources/CShims"),
        // The fork handlers' registration (a constructor) and the Swift runtime's thread-id cache.
        .target(name: "CForkHooks"),
        .target(
            name: "VoiceTelemetry",
            dependencies: ["CVoiceTelemetry", "CShims", "CForkHooks"],
            exclude: ["exports.map"],
            swiftSettings: [
                // Record calls touch only atomics; dynamic exclusivity checks would add work (and a trap)
                // to the hot path without protecting anything the atomics do not already protect.
                .unsafeFlags(["-enforce-exclusivity=unchecked"]),
            ],
            linkerSettings: [
                // Export exactly the vt_* functions of the header, nothing else.
                .unsafeFlags(["-Xlinker", "--version-script=\(exportsMap)"], .when(configuration: .release)),
            ]
        ),
        .testTarget(
            name: "VoiceTelemetryTests",
            dependencies: ["VoiceTelemetry", "CVoiceTelemetry"]
        ),
    ]
)
