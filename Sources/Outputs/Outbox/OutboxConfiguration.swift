import Foundation

/// Retry policy of the outbox dispatcher (`outbox:` in the config file).
public struct OutboxConfiguration: Sendable, Hashable {
    /// Failed attempts after which an item is dead-lettered.
    public var maxAttempts: Int
    /// Age (seconds since it entered the outbox) after which a failing item is dead-lettered.
    public var maxAgeSeconds: Double
    /// Backoff before the n-th retry: a uniform random delay in [0, min(maxDelay, baseDelay·2^(n-1))]
    /// ("full jitter"), unless the sink said Retry-After.
    public var baseDelaySeconds: Double
    public var maxDelaySeconds: Double
    /// Longest Retry-After honoured as given; longer ones are cut to this.
    public var maxRetryAfterSeconds: Double
    /// How often the long-running loop looks for new rows when idle.
    public var pollIntervalSeconds: Double
    /// First wait of a deferred item (`DeliveryError.Disposition.deferred`); later waits grow with the
    /// time already waited (half of it, at most `maxDelaySeconds`), so a long wait costs few requests.
    public var deferDelaySeconds: Double
    /// How long an item may stay deferred (from its first deferral or failure) before it is
    /// dead-lettered. Generous: it should outlast the retries of the row it waits for.
    public var maxDeferSeconds: Double
    /// Rows every sink has finished are deleted once they are this old (checked hourly): a
    /// service that runs for months keeps a bounded outbox. The alerts and incidents tables keep
    /// the history.
    public var keepDeliveredSeconds: Double

    public init(maxAttempts: Int = 12, maxAgeSeconds: Double = 24 * 3600, baseDelaySeconds: Double = 1,
                maxDelaySeconds: Double = 300, maxRetryAfterSeconds: Double = 3600, pollIntervalSeconds: Double = 1,
                deferDelaySeconds: Double = 2, maxDeferSeconds: Double = 6 * 3600, keepDeliveredSeconds: Double = 7 * 86_400) {
        self.maxAttempts = maxAttempts
        self.maxAgeSeconds = maxAgeSeconds
        self.baseDelaySeconds = baseDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
        self.pollIntervalSeconds = pollIntervalSeconds
        self.deferDelaySeconds = deferDelaySeconds
        self.maxDeferSeconds = maxDeferSeconds
        self.keepDeliveredSeconds = max(0, keepDeliveredSeconds)
    }

    /// The wait before a deferred item goes again, after it has waited `waited` seconds so far.
    public func deferDelay(waited: Double) -> Double {
        let first = max(0.1, deferDelaySeconds)   // never 0: a deferral must not spin
        return min(max(first, maxDelaySeconds), max(first, waited / 2))
    }

    /// The backoff ceiling before retry number `attempt` (1 = first retry).
    public func backoffCeiling(attempt: Int) -> Double {
        let exponent = Double(max(0, min(attempt - 1, 62)))
        return min(maxDelaySeconds, baseDelaySeconds * pow(2, exponent))
    }
}
