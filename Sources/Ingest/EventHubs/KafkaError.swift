import CRdKafka

/// A librdkafka failure, typed: what failed, the librdkafka code, and whether retrying can help.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case configuration, unreachable, authentication, subscribe, consume, commit, produce, closed, mock
    }
    public let kind: Kind
    /// `rd_kafka_resp_err_t` raw value (0 when the failure is ours, not librdkafka's).
    public let code: Int32
    public let message: String
    public let isRetriable: Bool

    public init(_ kind: Kind, code: Int32 = 0, _ message: String, retriable: Bool = false) {
        self.kind = kind
        self.code = code
        self.message = message
        self.isRetriable = retriable
    }

    init(_ kind: Kind, _ err: rd_kafka_resp_err_t, _ context: String) {
        let text = String(cString: rd_kafka_err2str(err))
        let retriable = [RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
                         RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR__QUEUE_FULL,
                         RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR].contains(err)
        self.init(kind, code: err.rawValue, "\(context): \(text)", retriable: retriable)
    }

    public var description: String { "kafka \(kind.rawValue) error: \(message)" }
}
