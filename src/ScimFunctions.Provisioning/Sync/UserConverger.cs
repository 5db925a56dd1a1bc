using Azure;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.Users;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Turns "user X may have changed" into the fewest correct SCIM writes. This class decides which
/// lifecycle step applies, from the mapping row and the directory (or a trusted snapshot), and hands the step
/// one <see cref="UserCall"/> with the projection (<see cref="UserProjector"/>): joiner (<see cref="UserJoiner"/>: adopt or create), mover and rejoin
/// (<see cref="UserMover"/>: PATCH of changed owned attributes, recreate), leaver (<see cref="UserLeaver"/>), purge
/// (<see cref="UserPurger"/>), drift (<see cref="UserDriftCheck"/>). Reads the mapping row first; the steps write it
/// last, with its ETag; a lost row race decides again from the start.</summary>
public sealed class UserConverger(
    StateStore store,
    IDirectorySource directory,
    ScopeEvaluator scope,
    UserProjector projector,
    UserJoiner joiner,
    UserMover mover,
    UserLeaver leaver,
    UserPurger purger,
    UserDriftCheck drift,
    UserRows rows,
    ProvisioningMetrics metrics,
    TimeProvider time)
{
    public async Task<UserOutcome> ConvergeAsync(UserRequest request, RunContext run, CancellationToken cancellationToken = default)
    {
        TableKeys.Validate(request.ObjectId, "user object id");
        var read = new GraphRead();
        try
        {
            return await ConflictRetry.OnRowConflictAsync(() => ConvergeOnceAsync(request, run, read, cancellationToken), ObjectKind.User, metrics);
        }
        catch (RequestFailedException ex) when (ex.Status != 400)
        {
            throw StateFailures.FromTable(ex);
        }
        catch (DirectoryUnavailableException ex)
        {
            throw StateFailures.FromDirectory(ex);
        }
    }

    /// <summary>DELETE of a user disabled longer than the grace period (PurgeDisabled). Confirms with the
    /// directory first: a user who is back is converged instead; a failed read deletes nothing.</summary>
    public async Task<UserOutcome> PurgeAsync(UserMapping listed, RunContext run, CancellationToken cancellationToken = default)
    {
        var purged = await purger.PurgeAsync(listed, run, cancellationToken);
        return purged.Outcome ?? await ConvergeAsync(new UserRequest(listed.ObjectId, purged.Back!, time.GetUtcNow()), run, cancellationToken);
    }

    /// <summary>Compares the target's managed users with what was last applied (<see cref="UserDriftCheck"/>).</summary>
    /// <param name="listing">The chunk of the target's users this run compares (ReconcileGroups' <see cref="DriftScan"/>);
    /// null: every target user, listed here.</param>
    public Task<IReadOnlyList<PlannedOperation>> ReportDriftAsync(bool dryRun, ICollection<ObjectFailure>? failures = null, DriftListing? listing = null, CancellationToken cancellationToken = default) =>
        drift.ReportAsync(dryRun, failures, listing, cancellationToken);

    /// <summary>Stores the error on the user's row (creating a <see cref="LifecycleState.Failed"/> row when there is none).</summary>
    public Task RecordErrorAsync(string objectId, string error, CancellationToken cancellationToken = default) =>
        rows.RecordErrorAsync(objectId, error, cancellationToken);

    /// <summary>The Graph user, read at most once per convergence however often the row conflicts.</summary>
    private sealed class GraphRead
    {
        public bool Done { get; set; }
        public DirectoryUser? User { get; set; }
        public DateTimeOffset At { get; set; }

        /// <summary>The full run's copy of the row was used once; from now on the row is read from the table.</summary>
        public bool PreloadSpent { get; set; }
    }

    private async Task<UserOutcome> ConvergeOnceAsync(UserRequest request, RunContext run, GraphRead read, CancellationToken cancellationToken)
    {
        var id = request.ObjectId;

        // A full run's copy of the row saves the point read when it shows nothing to do; any other decision
        // starts again from a fresh read (Restart), so every write still rests on the row's current ETag.
        var known = read.PreloadSpent ? null : request.FullRun?.Rows.GetValueOrDefault(id);
        var mapping = known ?? await store.GetUserAsync(id, cancellationToken);
        Task<UserOutcome> Restart()
        {
            read.PreloadSpent = true;
            return ConvergeOnceAsync(request, run, read, cancellationToken);
        }

        var snapshotUsable = SnapshotUsable(request, mapping);
        var (user, observedAt) = snapshotUsable && request.Removed is not null ? (null, request.ObservedAt!.Value)
            : snapshotUsable && request.Observed is not null ? (request.Observed, request.ObservedAt!.Value)
            : await ReadDirectoryAsync(id, read, cancellationToken);
        UserCall Call(ProjectionResult? projection) => new(request, run, mapping, user, projection, observedAt, cancellationToken);

        if (user is null)
        {
            if (known is not null)
            {
                return await Restart();
            }

            var why = request.Removed is RemovalReason.HardDeleted ? "deleted in Entra" : request.Removed is RemovalReason.SoftDeleted ? "soft-deleted in Entra" : "not found in the directory";
            return await leaver.LeaveAsync(Call(null), why, new UserDecision(false, null, null, mapping?.Projection, [], [], null));
        }

        if (await scope.OutOfScopeReasonAsync(user, cancellationToken) is { } outOfScope)
        {
            if (known is not null)
            {
                return await Restart();
            }

            if (snapshotUsable && mapping is { State: LifecycleState.Active, ScimId: not null })
            {
                // Leaving scope on the word of a snapshot: confirm with Graph, as for a removal.
                return await ConvergeOnceAsync(request with { Observed = null, ObservedAt = null, Removed = null }, run, read, cancellationToken);
            }

            var scopeWhy = (mapping is { IsProvisioned: true } ? "left scope: " : "not in scope: ") + outOfScope;
            return await leaver.LeaveAsync(Call(null), scopeWhy, new UserDecision(true, outOfScope, null, mapping?.Projection, [], [], null));
        }

        var call = Call(await projector.ProjectAsync(request, run, user, mapping, known, cancellationToken));
        var provisioned = mapping is { IsProvisioned: true };
        if (known is not null && !(user.AccountEnabled && provisioned && UserMover.IsUnchanged(mapping!, call.Projection!)))
        {
            return await Restart();
        }

        if (!user.AccountEnabled)
        {
            return provisioned && mapping!.State == LifecycleState.Active
                ? await leaver.LeaveAsync(call, "account disabled in Entra", call.Decision())
                : await leaver.StayDisabledAsync(call);
        }

        return provisioned ? await mover.MoveAsync(call) : await joiner.JoinAsync(call);
    }

    /// <summary>A snapshot (delta) not newer than the data the row was written from is not trusted: read Graph
    /// instead. Equal times are not "newer": a round's ObservedAt is when it started, so a read at that instant
    /// may already hold a later change. And a snapshot never disables an active user by itself: a webhook item may
    /// have read Graph after the round did and found nothing to write (the user came back, or was never gone),
    /// which leaves no newer ObservedAt on the row. A leaver is rare, so it costs one Graph read to confirm.</summary>
    private static bool SnapshotUsable(UserRequest request, UserMapping? mapping) =>
        request.ObservedAt is { } seen && (mapping?.ObservedAt is null || seen > mapping.ObservedAt)
        && !(mapping is { State: LifecycleState.Active, ScimId: not null } && (request.Removed is not null || request.Observed is { AccountEnabled: false }));

    private async Task<(DirectoryUser? User, DateTimeOffset At)> ReadDirectoryAsync(string id, GraphRead read, CancellationToken cancellationToken)
    {
        if (!read.Done)
        {
            read.At = time.GetUtcNow();
            read.User = await directory.GetUserAsync(id, cancellationToken);
            read.Done = true;
        }

        return (read.User, read.At);
    }
}
