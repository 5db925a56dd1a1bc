using Azure;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>The one mapping from a SCIM answer to a failure reason, for users and groups alike. The object kind
/// matters in one place only: a uniqueness clash (409) on a user is its userName held by someone else, which
/// retrying cannot fix; on a group it is a group of that displayName created since this convergence looked
/// for one (another creator), which the retry's lookup finds and links.</summary>
internal static class ScimFailures
{
    /// <summary>The reason code and whether trying again later can help.</summary>
    public static (string Reason, bool IsTransient) Classify(ScimOutcome outcome, ObjectKind objectKind) => outcome switch
    {
        ScimOutcome.Throttled => (FailureReasons.Throttled, true),
        ScimOutcome.Transient => (FailureReasons.TargetUnavailable, true),
        ScimOutcome.Unauthorized => (FailureReasons.TargetUnauthorized, true),
        ScimOutcome.VersionConflict => (FailureReasons.VersionConflicts, true),
        ScimOutcome.InvalidValue => (FailureReasons.TargetRejectedValue, false),
        ScimOutcome.Uniqueness when objectKind == ObjectKind.Group => (FailureReasons.GroupNameTaken, true),
        ScimOutcome.Uniqueness => (FailureReasons.UserNameTaken, false),
        _ => (FailureReasons.Permanent, false),
    };

    /// <summary>The target refused this object's data: retrying cannot help, so the error is stored on the row.</summary>
    public static bool IsRefusal(ScimOutcome outcome, ObjectKind objectKind) =>
        (outcome is ScimOutcome.InvalidValue or ScimOutcome.Permanent or ScimOutcome.Uniqueness) && !Classify(outcome, objectKind).IsTransient;

    /// <summary>The failure for an answer the caller has no better handling for. Counts a throttle.</summary>
    /// <param name="what">The call, as the operator reads it: "patch", "group lookup", "re-read after a version conflict".</param>
    /// <param name="context">Appended to the message (e.g. which entitlements were sent).</param>
    public static ProvisioningException For(ScimOutcome outcome, ScimError? error, ObjectKind objectKind, string objectId, string what, ProvisioningMetrics? metrics = null, string? context = null)
    {
        if (outcome == ScimOutcome.Throttled)
        {
            metrics?.Throttles.Add(1, ProvisioningMetrics.Kind(objectKind));
        }

        var (reason, transient) = Classify(outcome, objectKind);
        return new ProvisioningException(reason, $"The target answered the {what} of {objectKind.ToWireName()} {objectId} with {outcome}{Detail(error)}.{context}", transient);
    }

    public static ProvisioningException For<T>(ScimResult<T> result, ObjectKind objectKind, string objectId, string what, ProvisioningMetrics? metrics = null, string? context = null) =>
        For(result.Outcome, result.Error, objectKind, objectId, what, metrics, context);

    /// <summary>The resource of a successful answer; any other answer is thrown as its failure.</summary>
    public static ScimResource EnsureOk(ScimResult<ScimResource> result, ObjectKind objectKind, string objectId, string what, ProvisioningMetrics? metrics = null) =>
        result is { IsSuccess: true, Value: { } resource } ? resource : throw For(result, objectKind, objectId, what, metrics);

    /// <summary>Throws for any answer but success and NotFound (a lookup that found nobody is an answer too).</summary>
    public static void EnsureOkOrNotFound(ScimResult<ScimResource> result, ObjectKind objectKind, string objectId, string what, ProvisioningMetrics? metrics = null)
    {
        if (result.Outcome != ScimOutcome.NotFound)
        {
            EnsureOk(result, objectKind, objectId, what, metrics);
        }
    }

    /// <summary>The target's status, scimType and (shortened) detail for a message: " (400 invalidValue: …)".
    /// The client has already redacted the values the detail echoes.</summary>
    public static string Detail(ScimError? error) =>
        error is null ? "" : $" ({error.Status}{(error.ScimType is null ? "" : " " + error.ScimType)}: {Shorten(error.Detail)})";

    private static string Shorten(string s) => s.Length <= 300 ? s : s[..300] + "…";
}

/// <summary>The failures of the engine's other two dependencies, worded once: Table Storage (the mapping rows)
/// and the directory.</summary>
internal static class StateFailures
{
    /// <summary>A Table Storage error as a failure: a 400 is a write Table Storage will never accept (permanent,
    /// <see cref="FailureReasons.StateRejected"/>); anything else may pass (<see cref="FailureReasons.StateUnavailable"/>).</summary>
    public static ProvisioningException FromTable(RequestFailedException ex) => ex.Status == 400
        ? new ProvisioningException(FailureReasons.StateRejected, $"Table Storage refused a write ({ex.ErrorCode}).", isTransient: false, ex)
        : new ProvisioningException(FailureReasons.StateUnavailable, $"Table Storage answered {ex.Status} ({ex.ErrorCode}).", isTransient: true, ex);

    /// <summary>"reason: message", as rows and run summaries store a failure.</summary>
    public static string Describe(ProvisioningException ex) => $"{ex.Reason}: {ex.Message}";

    /// <summary>A failed directory read: never "not found", so nothing was decided on it.</summary>
    public static ProvisioningException FromDirectory(DirectoryUnavailableException ex, string message = "The directory could not be read; nothing was decided.") =>
        new(FailureReasons.DirectoryUnavailable, message, ex.IsTransient, ex);
}
