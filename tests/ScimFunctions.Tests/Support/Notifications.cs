using System.Text.Json.Nodes;

namespace ScimFunctions.Tests.Support;

/// <summary>Builds Graph changeNotificationCollection bodies in the documented wire shape.</summary>
public static class Notifications
{
    public const string ClientState = "test-client-state-0123456789";
    public const string SubscriptionId = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07";
    public const string TenantId = "84bd8158-6d4d-4958-8b9f-9d6445542f95";

    public static JsonObject UserChange(string userId, string clientState = ClientState, string changeType = "updated", string eventTime = "2026-11-27T10:00:00Z") => new()
    {
        ["subscriptionId"] = SubscriptionId,
        ["subscriptionExpirationDateTime"] = "2026-12-20T10:00:00Z",
        ["clientState"] = clientState,
        ["changeType"] = changeType,
        ["resource"] = $"Users/{userId}",
        ["tenantId"] = TenantId,
        ["resourceData"] = new JsonObject
        {
            ["@odata.type"] = "#Microsoft.Graph.User",
            ["@odata.id"] = $"Users/{userId}",
            ["id"] = userId,
            ["organizationId"] = TenantId,
            ["eventTime"] = eventTime,
            ["sequenceNumber"] = 0,
        },
    };

    public static JsonObject GroupChange(string groupId, string clientState = ClientState) => new()
    {
        ["subscriptionId"] = SubscriptionId,
        ["clientState"] = clientState,
        ["changeType"] = "updated",
        ["resource"] = $"Groups/{groupId}",
        ["tenantId"] = TenantId,
        ["resourceData"] = new JsonObject
        {
            ["@odata.type"] = "#Microsoft.Graph.Group",
            ["@odata.id"] = $"Groups/{groupId}",
            ["id"] = groupId,
        },
    };

    public static JsonObject Lifecycle(string lifecycleEvent, string clientState = ClientState) => new()
    {
        ["subscriptionId"] = SubscriptionId,
        ["subscriptionExpirationDateTime"] = "2026-12-20T10:00:00Z",
        ["tenantId"] = TenantId,
        ["clientState"] = clientState,
        ["lifecycleEvent"] = lifecycleEvent,
    };

    public static string Collection(params JsonObject[] items) =>
        new JsonObject { ["value"] = new JsonArray(items.Select(i => (JsonNode)i).ToArray()) }.ToJsonString();
}
