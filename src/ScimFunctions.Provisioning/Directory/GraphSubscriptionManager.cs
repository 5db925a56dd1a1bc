using Microsoft.Extensions.Logging;
using Microsoft.Graph;
using Microsoft.Graph.Models;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>Creates, renews, reauthorizes and deletes Graph change-notification subscriptions for users
/// and groups. A 404 means "gone, recreate it" (null / false); a 403 on create is the quota or a missing
/// permission, reported as such.</summary>
public sealed class GraphSubscriptionManager : IGraphSubscriptions
{
    /// <summary>Users and groups support only these; <c>updated</c> also covers creation and soft delete.</summary>
    public const string ChangeTypes = "updated,deleted";

    private readonly GraphServiceClient client;
    private readonly GraphSubscriptionOptions options;
    private readonly string clientState;
    private readonly TimeProvider time;
    private readonly ILogger<GraphSubscriptionManager> logger;

    /// <param name="clientState">The secret Graph echoes in every notification (<c>Notifications__ClientState</c>).</param>
    public GraphSubscriptionManager(GraphServiceClient client, GraphSubscriptionOptions options, string clientState, TimeProvider time, ILogger<GraphSubscriptionManager> logger)
    {
        GraphSubscriptionOptionsValidator.ThrowIfInvalid(options);
        if (string.IsNullOrWhiteSpace(clientState) || clientState.Length > 128)
        {
            throw new ArgumentException("Setting Notifications__ClientState is required for Graph subscriptions and must be at most 128 characters.", nameof(clientState));
        }

        this.client = client;
        this.options = options;
        this.clientState = clientState;
        this.time = time;
        this.logger = logger;
    }

    public async Task<GraphSubscription> CreateAsync(string resource, CancellationToken cancellationToken = default)
    {
        if (!GraphSubscriptionOptionsValidator.IsSupportedResource(resource))
        {
            throw new ArgumentException($"'{resource}' is not a resource this connector subscribes to; use /users or /groups.", nameof(resource));
        }

        if (GraphSubscriptionOptionsValidator.CheckNotificationUrl(options) is { } problem)
        {
            throw new DirectoryUnavailableException($"Cannot create a subscription for {resource}: {problem}", isTransient: false);
        }

        var expiresAt = time.GetUtcNow() + options.EffectiveLifetime();
        Subscription? created;
        try
        {
            created = await client.Subscriptions.PostAsync(new Subscription
            {
                ChangeType = ChangeTypes,
                Resource = resource,
                NotificationUrl = options.NotificationUrl,
                LifecycleNotificationUrl = options.EffectiveLifecycleUrl(),
                ClientState = clientState,
                ExpirationDateTime = expiresAt,
                LatestSupportedTlsVersion = "v1_2",
            }, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (GraphFailure.StatusOf(ex) is 400 or 403)
        {
            var refusal = GraphFailure.StatusOf(ex) == 403
                ? $"{GraphFailure.Describe(ex)}. Either the subscription quota is used up (100 per app and tenant: delete unused subscriptions) or the app lacks the permission ({(resource.StartsWith("/groups", StringComparison.OrdinalIgnoreCase) ? "Group.Read.All" : "User.Read.All")})"
                : $"{GraphFailure.Describe(ex)}. Usually the notification URL did not echo Graph's validation token within 10 seconds, or the expiration is beyond Graph's maximum";
            DirectoryLog.SubscriptionRefused(logger, resource, refusal, ex);
            throw new DirectoryUnavailableException($"Graph refused to create a subscription for {resource}: {refusal}.", ex, isTransient: false);
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken))
        {
            throw GraphFailure.Wrap(ex, $"creation of a subscription for {resource}");
        }

        if (created?.Id is null)
        {
            throw new DirectoryUnavailableException($"Graph answered the creation of a subscription for {resource} without a subscription id.");
        }

        var subscription = new GraphSubscription(created.Id, created.Resource ?? resource, created.ExpirationDateTime ?? expiresAt);
        DirectoryLog.SubscriptionCreated(logger, subscription.Id, subscription.Resource, subscription.ExpiresAt);
        return subscription;
    }

    public async Task<GraphSubscription?> RenewAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        // Always the full lifetime: renewing less than 3 hours out draws reauthorizationRequired events.
        var expiresAt = time.GetUtcNow() + options.EffectiveLifetime();
        Subscription? renewed;
        try
        {
            renewed = await client.Subscriptions[id].PatchAsync(new Subscription { ExpirationDateTime = expiresAt }, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (GraphFailure.IsNotFound(ex))
        {
            DirectoryLog.SubscriptionGone(logger, id, "renewal");
            return null;
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken))
        {
            throw GraphFailure.Wrap(ex, $"renewal of subscription {id}");
        }

        var subscription = new GraphSubscription(id, renewed?.Resource ?? "", renewed?.ExpirationDateTime ?? expiresAt);
        DirectoryLog.SubscriptionRenewed(logger, id, subscription.ExpiresAt);
        return subscription;
    }

    public async Task<bool> ReauthorizeAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        try
        {
            await client.Subscriptions[id].Reauthorize.PostAsync(cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (GraphFailure.IsNotFound(ex))
        {
            DirectoryLog.SubscriptionGone(logger, id, "reauthorization");
            return false;
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken))
        {
            throw GraphFailure.Wrap(ex, $"reauthorization of subscription {id}");
        }

        DirectoryLog.SubscriptionReauthorized(logger, id);
        return true;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        try
        {
            await client.Subscriptions[id].DeleteAsync(cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (GraphFailure.IsNotFound(ex))
        {
            return false;
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken))
        {
            throw GraphFailure.Wrap(ex, $"deletion of subscription {id}");
        }

        DirectoryLog.SubscriptionDeleted(logger, id);
        return true;
    }
}
