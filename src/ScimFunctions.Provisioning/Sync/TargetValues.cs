using System.Text.Json.Nodes;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Typed reads of a target resource's attributes. The target answering another JSON type there (a number,
/// an object) is a per-object failure with a reason (<see cref="FailureReasons.TargetResponseInvalid"/>), never an
/// exception outside the settlement paths.</summary>
internal static class TargetValues
{
    public static string? String(JsonObject body, string attribute, string? scimId) => body[attribute] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => throw Invalid(attribute, "a string", other, scimId),
    };

    public static bool? Boolean(JsonObject body, string attribute, string? scimId) => body[attribute] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
        var other => throw Invalid(attribute, "a boolean", other, scimId),
    };

    /// <summary>Names the attribute, the expected and the received JSON kind and the target id; never the value.</summary>
    public static ProvisioningException Invalid(string attribute, string expected, JsonNode node, string? scimId) =>
        new(FailureReasons.TargetResponseInvalid, $"Target resource {scimId} answered {node.GetValueKind()} for '{attribute}' where {expected} is expected.", isTransient: false);
}
