namespace ScimFunctions.Provisioning.Directory;

/// <summary>A Graph change-notification subscription as the connector tracks it.</summary>
public sealed record GraphSubscription(string Id, string Resource, DateTimeOffset ExpiresAt);

/// <summary>Keeps Graph change notifications flowing. The notification URL (with its function key),
/// lifecycle URL, clientState and lifetime come from the implementation's options.</summary>
public interface IGraphSubscriptions
{
    /// <summary>Creates a subscription for <c>/users</c> or <c>/groups</c> (changeType <c>updated,deleted</c>).</summary>
    Task<GraphSubscription> CreateAsync(string resource, CancellationToken cancellationToken = default);

    /// <summary>Extends to the maximum lifetime Graph allows; <c>null</c> when the subscription is gone (404).</summary>
    Task<GraphSubscription?> RenewAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Answers <c>reauthorizationRequired</c>; <c>false</c> when the subscription is gone (404).</summary>
    Task<bool> ReauthorizeAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Deletes a subscription (before recreating it, or when tidying up); <c>false</c> when it was already gone (404).</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);
}
