// swift-tools-version:6.0
import PackageDescription

// Dependency direction (see DESIGN.md): executables -> IstioIptablesCLI/Kubernetes -> IstioCapture
// -> Netfilter -> PacketModel; IptsimCLI -> Replay -> PacketCodec/Netfilter -> PacketModel;
// only PcapIO (-> CPcap, PacketCodec) touches libpcap and capture files. CHints (header-only C:
// a cache prefetch Swift cannot spell) serves Replay's flow table. Only the CLI layer reads the
// environment, files or the machine.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "istio-iptables-emulator",
    products: [
        .executable(name: "istio-iptables", targets: ["istio-iptables"]),
        .executable(name: "iptsim", targets: ["iptsim"]),
        .library(name: "IstioCapture", targets: ["IstioCapture"]),
        .library(name: "Netfilter", targets: ["Netfilter"]),
        .library(name: "IptablesSave", targets: ["IptablesSave"]),
        .library(name: "PacketModel", targets: ["PacketModel"]),
        .library(name: "PacketCodec", targets: ["PacketCodec"]),
        .library(name: "PcapIO", targets: ["PcapIO"]),
        .library(name: "Replay", targets: ["Replay"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "PacketModel", swiftSettings: strict),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "PacketCodec", dependencies: ["PacketModel"], swiftSettings: strict),
        .target(name: "CHints"),
        .target(name: "PcapIO", dependencies: ["CPcap", "PacketCodec"], swiftSettings: strict),
        .target(
            name: "Replay", dependencies: ["CHints", "PacketCodec", "Netfilter", "PacketModel"],
            swiftSettings: strict),
        .target(name: "Netfilter", dependencies: ["PacketModel"], swiftSettings: strict),
        .target(name: "IptablesSave", dependencies: ["Netfilter", "PacketModel"], swiftSettings: strict),
        .target(name: "IstioCapture", dependencies: ["Netfilter", "PacketModel"], swiftSettings: strict),
        .target(
            name: "Kubernetes",
            dependencies: ["IstioCapture", "PacketModel", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .target(
            name: "IstioIptablesCLI", dependencies: ["IstioCapture", "Netfilter", "PacketModel"],
            swiftSettings: strict),
        .executableTarget(name: "istio-iptables", dependencies: ["IstioIptablesCLI"], swiftSettings: strict),
        .target(
            name: "IptsimCLI",
            dependencies: [
                "IstioIptablesCLI", "IstioCapture", "IptablesSave", "Kubernetes", "Netfilter", "PacketModel",
                "PacketCodec", "PcapIO", "Replay",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "iptsim", dependencies: ["IptsimCLI"], swiftSettings: strict),
        .testTarget(name: "PacketModelTests", dependencies: ["PacketModel"], swiftSettings: strict),
        .testTarget(
            name: "PacketCodecTests", dependencies: ["PacketCodec", "PacketModel"], swiftSettings: strict),
        .testTarget(
            name: "PcapIOTests", dependencies: ["PcapIO", "PacketCodec", "PacketModel"], swiftSettings: strict
        ),
        .testTarget(
            name: "ReplayTests",
            dependencies: ["Replay", "PcapIO", "PacketCodec", "Netfilter", "PacketModel", "IptsimCLI"],
            swiftSettings: strict),
        .testTarget(
            name: "NetfilterTests", dependencies: ["Netfilter", "IptablesSave", "PacketModel"],
            swiftSettings: strict),
        .testTarget(
            name: "IptablesSaveTests",
            dependencies: ["IptablesSave", "Netfilter", "PacketModel", "IstioCapture", "IstioIptablesCLI"],
            exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(
            name: "IstioCaptureTests", dependencies: ["IstioCapture", "Netfilter", "PacketModel"],
            swiftSettings: strict),
        .testTarget(
            name: "IptsimCLITests", dependencies: ["IptsimCLI", "IstioCapture", "Netfilter", "PacketModel"],
            swiftSettings: strict),
        .testTarget(
            name: "KubernetesTests", dependencies: ["Kubernetes", "IstioCapture", "PacketModel"],
            exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(
            name: "IstioIptablesCLITests", dependencies: ["IstioIptablesCLI", "IstioCapture", "PacketModel"],
            exclude: ["Fixtures"],
            swiftSettings: strict),
    ]
)
