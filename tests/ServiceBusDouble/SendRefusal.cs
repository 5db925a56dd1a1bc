namespace ServiceBusTestDouble;

/// <summary>How the double answers a send when told to refuse: the AMQP error condition it puts in the
/// Rejected outcome, chosen for the <c>ServiceBusException.Reason</c> (and transience) the SDK maps it to.</summary>
public enum SendRefusal
{
    /// <summary>Sends are accepted and stored.</summary>
    None,

    /// <summary>amqp:resource-limit-exceeded → ServiceBusFailureReason.QuotaExceeded; not transient,
    /// so the SDK throws on the first refusal without retrying.</summary>
    QuotaExceeded,

    /// <summary>com.microsoft:server-busy → ServiceBusFailureReason.ServiceBusy; transient, so the SDK
    /// retries per its retry options, but waits 10 s (its ServerBusyBaseSleepTime) before each such retry
    /// and before the sender's next operation: give the client MaxRetries = 0 in a test.</summary>
    ServerBusy,

    /// <summary>amqp:unauthorized-access → ServiceBusFailureReason.Unauthorized (not transient).</summary>
    Unauthorized,
}
