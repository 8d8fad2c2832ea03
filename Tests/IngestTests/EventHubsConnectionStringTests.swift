import Testing
@testable import Ingest

@Suite struct EventHubsConnectionStringTests {
    static let key = "Zm9vYmFyU0VDUkVUa2V5MTIz+/abc="

    @Test func parsesTheDocumentedShape() throws {
        let text = "Endpoint=sb://vigil-ns.servicebus.windows.net/;SharedAccessKeyName=ListenPolicy;SharedAccessKey=\(Self.key);EntityPath=insights-activity-logs"
        let cs = try EventHubsConnectionString(parsing: text)
        #expect(cs.host == "vigil-ns.servicebus.windows.net")
        #expect(cs.bootstrapServers == "vigil-ns.servicebus.windows.net:9093")
        #expect(cs.sharedAccessKeyName == "ListenPolicy")
        #expect(cs.entityPath == "insights-activity-logs")
        #expect(!cs.description.contains(Self.key))
        let settings = KafkaConnection.eventHubs(cs).settings
        func value(_ k: String) -> String? { settings.first { $0.key == k }?.value }
        #expect(value("security.protocol") == "SASL_SSL")
        #expect(value("sasl.mechanism") == "PLAIN")
        #expect(value("sasl.username") == "$ConnectionString")
        #expect(value("sasl.password") == text)
        #expect(settings.first { $0.key == "sasl.password" }?.secret == true)
        let config = EventHubsConsumerConfiguration(connection: .eventHubs(cs), groupID: "vigil")
        #expect(config.topics == ["insights-activity-logs"])
    }

    @Test func keysAreCaseInsensitiveAndSplitOnTheFirstEquals() throws {
        let cs = try EventHubsConnectionString(parsing: " endpoint=SB://ns.servicebus.windows.net;sharedaccesskeyname=p;SHAREDACCESSKEY=abc==;")
        #expect(cs.bootstrapServers == "ns.servicebus.windows.net:9093")
        #expect(cs.secret.contains("abc=="))
        #expect(cs.entityPath == nil)
        let emulator = try EventHubsConnectionString(parsing: "Endpoint=sb://localhost;SharedAccessKeyName=Root;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;")
        #expect(emulator.bootstrapServers == "localhost:9092")
    }

    @Test(arguments: [
        ("", "empty"),
        ("SharedAccessKeyName=p;SharedAccessKey=\(key)", "Endpoint is missing"),
        ("Endpoint=https://ns.servicebus.windows.net/;SharedAccessKeyName=p;SharedAccessKey=\(key)", "sb://"),
        ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=p", "SharedAccessKey is missing"),
        ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=p;\(key.replacingOccurrences(of: "=", with: ""))", "segment 3 is not key=value"),
        ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=p;SharedAccessKey=\(key);Colour=blue", "unknown key 'Colour'"),
        ("Endpoint=sb://ns.servicebus.windows.net/;endpoint=sb://x/;SharedAccessKeyName=p;SharedAccessKey=\(key)", "appears twice"),
        ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=x&sig=\(key)", "not accepted"),
        ("Endpoint=sb:///;SharedAccessKeyName=p;SharedAccessKey=\(key)", "no valid host"),
        ("Endpoint=sb://ns:99999/;SharedAccessKeyName=p;SharedAccessKey=\(key)", "invalid port"),
    ])
    func badStringsGetClearErrorsWithoutTheKey(text: String, expected: String) {
        do {
            _ = try EventHubsConnectionString(parsing: text)
            Issue.record("accepted: expected an error containing \(expected)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains(Self.key))
            #expect(!error.description.contains("U0VDUkVU"))
        }
    }
}
