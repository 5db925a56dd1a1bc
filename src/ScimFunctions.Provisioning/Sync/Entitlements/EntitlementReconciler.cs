using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.Entitlements;

/// <summary>The ReconcileGroups step for entitlements: every user whose rule-group membership differs from
/// what was last applied is converged (one PATCH each); everyone else costs nothing on the target.</summary>
internal static class EntitlementReconciler
{
    public static async Task ReconvergeAsync(EntitlementResolver entitlements, StateStore store, UserConverger users, RunContext run, SummaryBuilder summary, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> affected;
        try
        {
            affected = await entitlements.AffectedUsersAsync(store, cancellationToken);
        }
        catch (ProvisioningException ex)
        {
            summary.Fail(ObjectKind.User, "*", $"{ex.Reason}: {ex.Message}");
            return;
        }

        foreach (var id in affected)
        {
            try
            {
                summary.Add(await users.ConvergeAsync(new UserRequest(id), run, cancellationToken));
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKind.User, id, $"{ex.Reason}: {ex.Message}");
            }
        }
    }
}
