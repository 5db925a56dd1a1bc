namespace ScimFunctions.Provisioning.Sync;

/// <summary>An object could not be converged. <see cref="IsTransient"/> says whether trying again later
/// can help (throttling, timeouts, Graph or Table unavailable) or not (the target rejects a value).
/// <see cref="Reason"/> is a short code used as the dead-letter reason; <see cref="Exception.Message"/>
/// describes the problem without personal data.</summary>
public sealed class ProvisioningException(string reason, string message, bool isTransient, Exception? innerException = null)
    : Exception(message, innerException)
{
    public string Reason { get; } = reason;

    public bool IsTransient { get; } = isTransient;
}

/// <summary>Dead-letter and failure reason codes.</summary>
public static class FailureReasons
{
    public const string TargetRejectedValue = "TargetRejectedValue";
    public const string UserNameTaken = "UserNameTaken";

    /// <summary>A group create met 409: a target group of that displayName appeared since the lookup. Transient:
    /// the retry's lookup links it.</summary>
    public const string GroupNameTaken = "GroupNameTaken";
    public const string TargetUserDeleted = "TargetUserDeleted";
    public const string VersionConflicts = "VersionConflictsPersisted";
    public const string Throttled = "Throttled";
    public const string TargetUnavailable = "TargetUnavailable";
    public const string TargetUnauthorized = "TargetUnauthorized";
    public const string DirectoryUnavailable = "DirectoryUnavailable";
    public const string ScopeGroupNotFound = "ScopeGroupNotFound";
    public const string TargetResponseInvalid = "TargetResponseInvalid";
    public const string StateUnavailable = "StateUnavailable";
    public const string StateConflicts = "StateConflictsPersisted";
    public const string StateRejected = "StateRejectedValue";
    public const string MalformedBody = "MalformedBody";
    public const string RetriesExhausted = "RetriesExhausted";
    public const string Permanent = "TargetPermanentError";
}
