using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>What RenewSubscriptions or a lifecycle item did to one subscription.</summary>
public sealed record SubscriptionChange(string Resource, string SubscriptionId, SubscriptionOutcome Action, DateTimeOffset ExpiresAt);

/// <summary>What <see cref="SubscriptionKeeper.EnsureAsync"/> found or did for one resource.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SubscriptionOutcome>))]
public enum SubscriptionOutcome
{
    /// <summary>Far enough from expiry: nothing done.</summary>
    [JsonStringEnumMemberName("current")] Current,
    [JsonStringEnumMemberName("renewed")] Renewed,
    [JsonStringEnumMemberName("created")] Created,
}

/// <summary>Keeps one Graph subscription per resource (<c>users</c>, and <c>groups</c> when groups matter)
/// alive: created when missing, renewed when it expires within <see cref="SyncOptions.SubscriptionRenewalHours"/>,
/// recreated when Graph says it is gone, reauthorized on <c>reauthorizationRequired</c>. The RenewSubscriptions
/// timer's job, and the lifecycle work items' answer. Without <see cref="IGraphSubscriptions"/> (a snapshot directory,
/// the CLI, tests) there is nothing to keep: it reports no subscriptions and answers lifecycle items with that.</summary>
public sealed class SubscriptionKeeper(StateStore store, SyncOptions options, TimeProvider time, ILogger<SubscriptionKeeper> logger, IGraphSubscriptions? graph = null)
{
    public const string Users = "/users";
    public const string Groups = "/groups";

    public IReadOnlyList<string> Resources =>
        options.GroupChangesMatter ? [Users, Groups] : [Users];

    /// <summary>What a lifecycle item is answered with when the host has no Graph subscriptions.</summary>
    public const string NoSubscriptions = "no Graph subscriptions configured";

    public async Task<IReadOnlyList<SubscriptionChange>> EnsureAsync(CancellationToken cancellationToken = default)
    {
        if (graph is null)
        {
            return [];
        }

        var changes = new List<SubscriptionChange>();
        var known = await store.ListSubscriptionsAsync(cancellationToken);
        var now = time.GetUtcNow();
        foreach (var resource in Resources)
        {
            var current = known.Where(s => Same(s.Resource, resource)).OrderByDescending(s => s.ExpiresAt).ToList();
            var keep = current.FirstOrDefault();
            foreach (var extra in current.Skip(1))
            {
                await store.DeleteSubscriptionAsync(extra.Id, cancellationToken);
            }

            if (keep is not null && keep.ExpiresAt - now > TimeSpan.FromHours(options.SubscriptionRenewalHours))
            {
                changes.Add(new SubscriptionChange(resource, keep.Id, SubscriptionOutcome.Current, keep.ExpiresAt));
                continue;
            }

            if (keep is not null)
            {
                var renewed = await graph.RenewAsync(keep.Id, cancellationToken);
                if (renewed is not null)
                {
                    await store.SaveSubscriptionAsync(renewed, cancellationToken);
                    EngineLog.Subscription(logger, renewed.Id, resource, SubscriptionOutcome.Renewed, renewed.ExpiresAt);
                    changes.Add(new SubscriptionChange(resource, renewed.Id, SubscriptionOutcome.Renewed, renewed.ExpiresAt));
                    continue;
                }

                await store.DeleteSubscriptionAsync(keep.Id, cancellationToken);
            }

            changes.Add(await CreateAsync(resource, cancellationToken));
        }

        return changes;
    }

    /// <summary>Answers a lifecycle notification. Every event also calls for a delta sweep (the caller runs it):
    /// changes made while delivery was paused are only found by delta.</summary>
    public async Task<string> HandleLifecycleAsync(string subscriptionId, string lifecycleEvent, CancellationToken cancellationToken = default)
    {
        if (graph is null)
        {
            return NoSubscriptions;
        }

        string action;
        if (lifecycleEvent.Equals("reauthorizationRequired", StringComparison.OrdinalIgnoreCase))
        {
            if (await graph.ReauthorizeAsync(subscriptionId, cancellationToken))
            {
                action = "reauthorized";
            }
            else
            {
                await store.DeleteSubscriptionAsync(subscriptionId, cancellationToken);
                await EnsureAsync(cancellationToken);
                action = "gone; recreated";
            }
        }
        else if (lifecycleEvent.Equals("subscriptionRemoved", StringComparison.OrdinalIgnoreCase))
        {
            await store.DeleteSubscriptionAsync(subscriptionId, cancellationToken);
            await EnsureAsync(cancellationToken);
            action = "recreated";
        }
        else
        {
            action = "delta sweep requested";
        }

        EngineLog.Lifecycle(logger, lifecycleEvent, subscriptionId, action);
        return action;
    }

    private async Task<SubscriptionChange> CreateAsync(string resource, CancellationToken cancellationToken)
    {
        var created = await graph!.CreateAsync(resource, cancellationToken);
        await store.SaveSubscriptionAsync(created with { Resource = resource }, cancellationToken);
        EngineLog.Subscription(logger, created.Id, resource, SubscriptionOutcome.Created, created.ExpiresAt);
        return new SubscriptionChange(resource, created.Id, SubscriptionOutcome.Created, created.ExpiresAt);
    }

    private static bool Same(string stored, string resource) =>
        stored.Trim('/').Equals(resource.Trim('/'), StringComparison.OrdinalIgnoreCase);
}
