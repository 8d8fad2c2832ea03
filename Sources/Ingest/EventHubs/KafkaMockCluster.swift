import CRdKafka
import Logging

/// librdkafka's in-process mock cluster (rdkafka_mock.h): real brokers on local ports, for tests and
/// benchmarks. Consumers and producers reach it through `KafkaConnection.plaintext(bootstrapServers)`.
public final class KafkaMockCluster: @unchecked Sendable {
    private let host: KafkaHandle
    private let cluster: OpaquePointer
    public let bootstrapServers: String

    public init(brokers: Int32 = 1, logger: Logger = Logger(label: "vigil.kafka-mock")) throws(KafkaError) {
        // The cluster lives inside a client handle that itself talks to nothing.
        host = try KafkaHandle(role: .producer, connection: .plaintext(""), settings: [], logger: logger)
        guard let cluster = rd_kafka_mock_cluster_new(host.rk, brokers) else {
            throw KafkaError(.mock, "cannot create the mock cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit { rd_kafka_mock_cluster_destroy(cluster) }

    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, 1)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.mock, err, "creating topic \(name)") }
    }

    public var connection: KafkaConnection { .plaintext(bootstrapServers) }
}
