using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync.Entitlements;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>PATCH of a target user's owned attributes with If-Match; a version conflict re-reads the target,
/// diffs again from what it holds and retries (<see cref="ConflictRetry"/>, <c>Sync__ConflictRetries</c>).</summary>
public sealed class UserPatcher(IScimClient scim, AttributeMapper mapper, SyncOptions options, ProvisioningMetrics metrics)
{
    /// <summary>The user as the target answered (or as it already held the values); null when it no longer exists.</summary>
    internal async Task<ScimResource?> PatchAsync(string scimId, List<ScimPatchOperation> ops, string? version, IReadOnlyDictionary<string, string> desired, string objectId, CancellationToken cancellationToken = default)
    {
        var write = new VersionedWrite<List<ScimPatchOperation>>(
            ObjectKind.User, objectId, scimId,
            Send: (plan, atVersion, ct) => scim.PatchUserAsync(scimId, plan, atVersion, ct),
            Read: ct => scim.GetUserAsync(scimId, cancellationToken: ct),
            Replan: (fresh, _) => ValueTask.FromResult(ScimProjection.Diff(ScimProjection.ReadCurrent(fresh.Body, mapper), desired, mapper)),
            IsEmpty: plan => plan.Count == 0);
        var result = await ConflictRetry.OnVersionConflictAsync(write, ops, version, options.ConflictRetries, metrics, cancellationToken);
        return result.End switch
        {
            VersionedWriteEnd.Written or VersionedWriteEnd.NothingToWrite => result.Resource,
            VersionedWriteEnd.Gone => null,
            _ => throw ScimFailures.For(result.Answer!, ObjectKind.User, objectId, "patch", metrics,
                result.Answer!.Outcome == ScimOutcome.InvalidValue ? EntitlementProjection.DescribeSent(desired, result.Plan) : null),
        };
    }
}
