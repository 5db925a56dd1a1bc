using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.Entitlements;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>What an operator asks without changing anything: <c>scimfn explain</c> (a dry-run convergence of one user,
/// with the reasons) and <c>scimfn status</c> (the rows, cursors, subscriptions, failures and the hold).</summary>
public sealed class OperatorQueries(
    StateStore store,
    IDirectorySource directory,
    UserConverger users,
    ConfiguredEntitlements entitlements,
    TimeProvider time)
{
    public async Task<UserExplanation> ExplainAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrUserPrincipalName);
        var user = await directory.GetUserAsync(idOrUserPrincipalName.Trim(), cancellationToken);
        var objectId = user?.Id ?? (TableKeys.IsValid(idOrUserPrincipalName) && !idOrUserPrincipalName.Contains('@', StringComparison.Ordinal) ? idOrUserPrincipalName.Trim() : null);
        var mapping = objectId is null ? null : await store.GetUserAsync(objectId, cancellationToken);
        if (objectId is null)
        {
            return new UserExplanation(idOrUserPrincipalName, null, false, false, "not found in the directory", null, null, [], [], null,
                [new PlannedOperation(ObjectKind.User, idOrUserPrincipalName, PlanAction.Skip, "not found in the directory")], null);
        }

        var run = new RunContext(dryRun: true);
        var request = user is null ? new UserRequest(objectId) : new UserRequest(objectId, user, time.GetUtcNow());
        var outcome = await users.ConvergeAsync(request, run, cancellationToken);
        var decision = outcome.Decision;
        var entitlementLines = entitlements.Resolver is not { } rules || user is null || decision?.Desired is null ? []
            : EntitlementResolver.Explain(await rules.DesiredAsync(objectId, cancellationToken), mapping?.Projection, decision.Desired);
        return new UserExplanation(
            idOrUserPrincipalName,
            objectId,
            user is not null,
            user is not null && decision?.OutOfScopeReason is null,
            user is null ? "not found in the directory" : decision?.OutOfScopeReason,
            decision?.Desired,
            mapping?.Projection,
            decision?.ChangedPaths ?? [],
            decision?.Patch ?? [],
            decision?.PendingManagerId,
            outcome.Operations,
            mapping) { Entitlements = entitlementLines };
    }

    public async Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var usersByState = Enum.GetNames<LifecycleState>().ToDictionary(n => n, _ => 0);
        var failures = new List<StatusFailure>();
        await foreach (var mapping in store.ListUsersAsync(cancellationToken: cancellationToken))
        {
            usersByState[mapping.State.ToString()]++;
            if (mapping.LastError is not null)
            {
                failures.Add(new StatusFailure(ObjectKind.User, mapping.ObjectId, mapping.LastError, mapping.LastErrorAt));
            }
        }

        var groupsByState = Enum.GetNames<GroupState>().ToDictionary(n => n, _ => 0);
        var unmatched = new List<string>();
        await foreach (var group in store.ListGroupsAsync(cancellationToken))
        {
            groupsByState[group.State.ToString()]++;
            if (group.State == GroupState.Unmatched)
            {
                unmatched.Add(group.DisplayName ?? group.ObjectId);
            }

            if (group.LastError is not null)
            {
                failures.Add(new StatusFailure(ObjectKind.Group, group.ObjectId, group.LastError, group.LastErrorAt));
            }
        }

        var userCursor = await store.GetCursorAsync(DeltaSweeper.UsersCursor, cancellationToken);
        var groupCursor = await store.GetCursorAsync(DeltaSweeper.GroupsCursor, cancellationToken);
        return new SyncStatus(
            usersByState,
            groupsByState,
            userCursor.UpdatedAt,
            groupCursor.UpdatedAt,
            await store.ListSubscriptionsAsync(cancellationToken),
            failures.OrderByDescending(f => f.At).ToList(),
            await store.ListStagedAsync(cancellationToken),
            await store.GetHoldAsync(cancellationToken),
            unmatched.Order(StringComparer.OrdinalIgnoreCase).ToList());
    }
}
