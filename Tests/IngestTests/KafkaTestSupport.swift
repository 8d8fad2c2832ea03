import Glibc
import Ingest
import Logging
import Synchronization

/// Realistic Azure Activity Log records, as Azure Monitor sends them to Event Hubs.
enum ActivityLogBodies {
    static func record(_ n: Int, caller: String) -> String {
        """
        {"time":"2024-05-01T10:\(String(format2: n / 60 % 60)):\(String(format2: n % 60)).1234567Z","resourceId":"/SUBSCRIPTIONS/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/RESOURCEGROUPS/ML-RG/PROVIDERS/MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/WS\(n % 7)","operationName":"MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/COMPUTES/WRITE","category":"Administrative","resultType":"Success","resultSignature":"Succeeded.OK","durationMs":"1234","callerIpAddress":"203.0.113.\(n % 250)","correlationId":"7a1c\(n)-5e0d-4c1e-9d45-0f6b2f3e\(n % 10)a1b","identity":{"authorization":{"scope":"/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/ml-rg","action":"Microsoft.MachineLearningServices/workspaces/computes/write","evidence":{"role":"Contributor","principalType":"User"}},"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"\(caller)","appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46"}},"level":"Information","properties":{"statusCode":"OK","serviceRequestId":"req-\(n)","eventCategory":"Administrative","entity":"/subscriptions/0b1f6471/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws\(n % 7)","hierarchy":"tenant/mg/0b1f6471"}}
        """
    }

    /// `{"records":[…]}` with `count` records.
    static func body(_ n: Int, records count: Int = 3) -> [UInt8] {
        let records = (0..<count).map { record(n * 10 + $0, caller: "user\(n % 5)@contoso.com") }
        return Array("{\"records\":[\(records.joined(separator: ","))]}".utf8)
    }
}

extension String {
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}

/// CPU time of the calling thread and of the whole process, in seconds.
func cpuSeconds() -> (thread: Double, process: Double) {
    func secs(_ who: Int32) -> Double {
        var u = rusage()
        getrusage(who, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }
    return (secs(1 /* RUSAGE_THREAD */), secs(RUSAGE_SELF.rawValue))
}

/// Seen (partition, offset) pairs, per consumer.
struct Seen {
    var offsets: Set<TopicPartition.Offset> = []
    var partitions: Set<TopicPartition> = []
    var keys: Set<String> = []
    var messages = 0
}

extension TopicPartition {
    struct Offset: Hashable { var tp: TopicPartition; var offset: Int64 }
}
