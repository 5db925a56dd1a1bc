using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.Entitlements;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>What the target should hold for a user in scope: the attribute mapping, the manager's target id (known
/// only once the manager is provisioned; otherwise left out and recorded as pending), and the entitlements of the
/// user's rule groups (<c>Sync__Entitlements</c>).</summary>
public sealed class UserProjector(StateStore store, AttributeMapper mapper, EntitlementResolver? entitlements = null)
{
    /// <param name="known">The full run's copy of the row, when the decision still rests on it: the manager's row then
    /// comes from the same copy.</param>
    internal async Task<ProjectionResult> ProjectAsync(UserRequest request, RunContext run, DirectoryUser user, UserMapping? mapping, UserMapping? known, CancellationToken cancellationToken = default)
    {
        string? managerScimId = null;
        if (mapper.ManagerAttribute is not null && user.ManagerKnown && !string.IsNullOrEmpty(user.ManagerId) && TableKeys.IsValid(user.ManagerId))
        {
            var manager = known is not null ? request.FullRun!.Rows.GetValueOrDefault(user.ManagerId) : await store.GetUserAsync(user.ManagerId, cancellationToken);
            managerScimId = manager is { IsProvisioned: true } ? manager.ScimId
                : run.SimulatedActive.ContainsKey(user.ManagerId) ? SimulatedTarget.Reference : null;
        }

        var projection = mapper.Project(user, managerScimId);
        if (!user.ManagerKnown && mapper.ManagerAttribute is { } managerAttribute && mapping is not null)
        {
            // An incremental delta round says nothing about an unchanged manager: keep what was applied.
            var kept = new SortedDictionary<string, string>(projection.Values.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
            kept.Remove(managerAttribute.Path.Text);
            if (mapping.Projection?.TryGetValue(managerAttribute.Path.Text, out var appliedManager) == true)
            {
                kept[managerAttribute.Path.Text] = appliedManager;
            }

            projection = new ProjectionResult(kept, mapping.PendingManagerId);
        }

        if (entitlements is { Enabled: true })
        {
            // Roles, division, skills and languages from the user's rule groups (Sync/Entitlements).
            projection = await entitlements.ProjectAsync(request.ObjectId, projection, mapping?.Projection, cancellationToken);
        }

        return projection;
    }
}
