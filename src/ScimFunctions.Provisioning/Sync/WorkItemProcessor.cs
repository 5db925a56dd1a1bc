using Azure;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.Entitlements;
using ScimFunctions.Provisioning.Sync.History;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>One queued work item (<c>ProvisionObject</c>, <c>scimfn provision</c>): which convergence it asks for, the
/// follow-ups it causes (scope and entitlement rule groups), and every failure as a <see cref="WorkItemResult"/> the
/// host can settle on. Retrying is the host's business (<see cref="WorkItemRetryPolicy"/>).</summary>
public sealed class WorkItemProcessor(
    StateStore store,
    IDirectorySource directory,
    UserConverger users,
    GroupConverger groups,
    ScopeEvaluator scope,
    SubscriptionKeeper subscriptions,
    ConfiguredEntitlements entitlements,
    SyncOptions options,
    TimeProvider time,
    ILogger<WorkItemProcessor> logger,
    HistoryRecorder history)
{
    /// <summary>Converges the object a queued work item names. <paramref name="redelivered"/>: the message was
    /// delivered before, so follow-ups are recomputed even if nothing changes now.</summary>
    public async Task<WorkItemResult> ProcessWorkItemAsync(WorkItem item, bool redelivered = false, CancellationToken cancellationToken = default)
    {
        var run = new RunContext(dryRun: false, forceFollowUps: redelivered);
        try
        {
            switch (item.Kind)
            {
                case WorkItemKind.User:
                {
                    var fromDelta = item.Source == WorkItemSources.Delta;
                    RemovalReason? removal = fromDelta ? item.ChangeType switch
                    {
                        WorkItemChangeTypes.Deleted => RemovalReason.HardDeleted,
                        WorkItemChangeTypes.SoftDeleted => RemovalReason.SoftDeleted,
                        _ => null,
                    } : null;
                    var request = new UserRequest(item.ObjectId, fromDelta ? item.Observed : null, fromDelta ? item.ObservedAt : null, removal, item.ReceivedAt);
                    var outcome = await history.UserAsync(item.ObjectId, HistoryRecorder.TriggerOf(item), run, transientIsFinal: false, () => users.ConvergeAsync(request, run, cancellationToken), cancellationToken);
                    return WorkItemResult.Done(outcome.Operations, outcome.FollowUps);
                }

                case WorkItemKind.Group:
                {
                    var followUps = new List<FollowUp>();
                    if (scope.IsScopeGroup(item.ObjectId))
                    {
                        followUps.AddRange(await ScopeGroupFollowUpsAsync(item.ObjectId, cancellationToken));
                    }

                    if (entitlements.Resolver is { } rules && rules.IsRuleGroup(item.ObjectId))
                    {
                        // Members who joined or left an entitlement rule group: one convergence (one PATCH) each.
                        followUps.AddRange(await rules.GroupChangedFollowUpsAsync(item.ObjectId, store, cancellationToken));
                    }

                    if (!options.Groups.Enabled)
                    {
                        return WorkItemResult.Done([new PlannedOperation(ObjectKind.Group, item.ObjectId, PlanAction.Skip, "group sync disabled (Sync__Groups__Enabled)")], followUps);
                    }

                    var removed = item.Source == WorkItemSources.Delta && item.ChangeType is WorkItemChangeTypes.Deleted or WorkItemChangeTypes.SoftDeleted;
                    var outcome = await history.GroupAsync(HistoryRecorder.TriggerOf(item), run, null, () => groups.ConvergeAsync(new GroupRequest(item.ObjectId, Removed: removed, SeenAt: item.ReceivedAt), run, cancellationToken: cancellationToken), cancellationToken);
                    return WorkItemResult.Done(outcome.Operations, followUps);
                }

                case WorkItemKind.Lifecycle:
                {
                    var action = await subscriptions.HandleLifecycleAsync(item.ObjectId, item.ChangeType, cancellationToken);
                    return WorkItemResult.Done([new PlannedOperation(ObjectKind.Subscription, item.ObjectId, PlanAction.Lifecycle, action, item.ChangeType)], sweepRequested: true);
                }

                default:
                    return new WorkItemResult(WorkItemStatus.Permanent, FailureReasons.MalformedBody, $"Unknown work item kind {item.Kind}.", [], false, []);
            }
        }
        catch (ProvisioningException ex)
        {
            return await FailAsync(item, ex, ex, cancellationToken);
        }
        catch (DirectoryUnavailableException ex)
        {
            EngineLog.Postponed(logger, ex, item.Kind.ToString(), item.ObjectId, FailureReasons.DirectoryUnavailable);
            return WorkItemResult.Failed(StateFailures.FromDirectory(ex, "The directory could not be read."));
        }
        catch (StateConflictException ex)
        {
            // The row kept changing through every re-decision (or a lifecycle or scope step lost a race):
            // the host must still settle the message, so it is retried later like any transient failure.
            EngineLog.Postponed(logger, ex, item.Kind.ToString(), item.ObjectId, FailureReasons.StateConflicts);
            return WorkItemResult.Failed(new ProvisioningException(FailureReasons.StateConflicts, "The mapping row kept changing under concurrent writers.", isTransient: true, ex));
        }
        catch (RequestFailedException ex)
        {
            // Table Storage outside the convergers' own handling (lifecycle, scope groups). A refused write (400)
            // is permanent, retrying cannot fix it: stored on the row like any permanent failure.
            return await FailAsync(item, ex, StateFailures.FromTable(ex), cancellationToken);
        }
    }

    /// <summary>A transient failure is only logged (the host retries it); a permanent one (e.g. a PATCH the target
    /// rejects: an unknown skill name) is also stored on the row, where status shows it.</summary>
    private async Task<WorkItemResult> FailAsync(WorkItem item, Exception cause, ProvisioningException failure, CancellationToken cancellationToken)
    {
        if (failure.IsTransient)
        {
            EngineLog.Postponed(logger, cause, item.Kind.ToString(), item.ObjectId, failure.Reason);
        }
        else
        {
            EngineLog.Failed(logger, cause, item.Kind.ToString(), item.ObjectId, failure.Reason);
            await TryRecordFailureAsync(item, StateFailures.Describe(failure), cancellationToken);
        }

        return WorkItemResult.Failed(failure);
    }

    /// <summary>Stores the error when Table Storage lets it; the dead-letter carries it either way.</summary>
    private async Task TryRecordFailureAsync(WorkItem item, string error, CancellationToken cancellationToken)
    {
        try
        {
            await RecordFailureAsync(item, error, cancellationToken);
        }
        catch (RequestFailedException)
        {
        }
    }

    /// <summary>A scope group changed: its members may have joined or left scope. Members not yet mapped and
    /// mapped active users not in the group are re-evaluated (the user convergence decides).</summary>
    private async Task<IReadOnlyList<FollowUp>> ScopeGroupFollowUpsAsync(string groupId, CancellationToken cancellationToken)
    {
        scope.Invalidate();
        var group = await directory.GetGroupAsync(groupId, options.Scope.Transitive, cancellationToken);
        if (group is null)
        {
            // A scope group Graph does not know is a configuration failure, not a group everyone left: no
            // user is queued to leave; users outside the other scope groups fail with ScopeGroupNotFound.
            EngineLog.ScopeGroupNotFound(logger, groupId);
            return [];
        }

        var members = new HashSet<string>(group?.MemberIds ?? [], StringComparer.Ordinal);
        var result = new List<FollowUp>();
        var mapped = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var key in store.ListUserKeysAsync(cancellationToken))
        {
            mapped.Add(key.ObjectId);
            if (key.State == LifecycleState.Active && !members.Contains(key.ObjectId))
            {
                result.Add(new FollowUp(WorkItemKind.User, key.ObjectId, "scope group changed"));
            }
        }

        result.AddRange(members.Where(m => !mapped.Contains(m) && GraphNotificationParser.IsSafeId(m)).Select(m => new FollowUp(WorkItemKind.User, m, "scope group changed")));
        return result;
    }

    /// <summary>Stores a failure the host decided on (retries exhausted) on the object's row.</summary>
    public async Task RecordFailureAsync(WorkItem item, string error, CancellationToken cancellationToken = default)
    {
        if (item.Kind == WorkItemKind.User && TableKeys.IsValid(item.ObjectId))
        {
            await users.RecordErrorAsync(item.ObjectId, error, cancellationToken);

            // The host's verdict (retries ran out); a permanent failure's row was written with its correlation ids.
            if (error.StartsWith(FailureReasons.RetriesExhausted, StringComparison.Ordinal))
            {
                await history.FailedAsync(item.ObjectId, HistoryRecorder.TriggerOf(item), error, cancellationToken);
            }
        }
        else if (item.Kind == WorkItemKind.Group && TableKeys.IsValid(item.ObjectId) && await store.GetGroupAsync(item.ObjectId, cancellationToken) is { } group)
        {
            try
            {
                await store.SaveGroupAsync(group with { LastError = error, LastErrorAt = time.GetUtcNow() }, cancellationToken);
            }
            catch (StateConflictException)
            {
            }
        }
    }
}
