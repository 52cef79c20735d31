import ArgumentParser

@main
struct TradeWireCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tradewire",
        abstract: "Low-latency trading WebSocket client: demo, benchmarks, conformance.",
        subcommands: [Demo.self, Bench.self, Soak.self, ParseBench.self, Book.self, BookBench.self, SignBench.self, Simulator.self, EchoServer.self, Autobahn.self],
        defaultSubcommand: Demo.self)
}
