namespace ScimFunctions.Provisioning.Sync.Entitlements;

/// <summary>The entitlement rules of this host, or none: <see cref="Resolver"/> is null without
/// <c>Sync__Entitlements</c>, and every consumer then behaves as before entitlements existed (no rule-group
/// follow-ups, no entitlement lines in explain, no re-convergence in the reconcile).</summary>
public sealed record ConfiguredEntitlements(EntitlementResolver? Resolver)
{
    public static ConfiguredEntitlements From(SyncOptions options, Directory.IDirectorySource directory, TimeProvider time)
    {
        var rules = EntitlementRules.Parse(options.Entitlements);
        return new(rules.IsEmpty ? null : new EntitlementResolver(rules, directory, time, options.Scope.GroupCacheSeconds));
    }
}
