using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Settings section <c>Sync</c>: what is provisioned, how, and the safety rules.</summary>
public sealed class SyncOptions
{
    public const string Section = "Sync";

    /// <summary>Bound separately (a JSON string or an array section); see <see cref="AttributeMapping"/>.</summary>
    public List<AttributeMappingRule>? AttributeMapping { get; set; }

    /// <summary>Entitlement rules (<c>Sync__Entitlements</c>, one JSON string): Entra groups → Genesys roles,
    /// division, routing skills and languages. Parsed and validated by <see cref="Entitlements.EntitlementRules.Parse"/>.</summary>
    public string? Entitlements { get; set; }

    /// <summary>Group changes are watched (subscription, delta sweep) when groups are synced, scope by
    /// group, or entitlement rules exist.</summary>
    public bool GroupChangesMatter =>
        Groups.Enabled || Scope.ParsedMode == ScopeMode.Groups || !string.IsNullOrWhiteSpace(Entitlements);

    /// <summary>Optional constant for the enterprise <c>division</c> (a Genesys division name, e.g. <c>Home</c>).</summary>
    public string? Division { get; set; }

    /// <summary>Country calling code (digits, e.g. <c>1</c>, <c>44</c>) used to make national phone numbers E.164.
    /// Without it, numbers not already international are left out.</summary>
    [RegularExpression("^\\+?[0-9]{1,4}$", ErrorMessage = "Setting Sync__DefaultPhoneCountryCode must be 1 to 4 digits, e.g. 1 or 44.")]
    public string? DefaultPhoneCountryCode { get; set; }

    public ScopeOptions Scope { get; set; } = new();

    public ThresholdOptions Threshold { get; set; } = new();

    public GroupSyncOptions Groups { get; set; } = new();

    /// <summary>Days between <c>active=false</c> and DELETE for a leaver.</summary>
    [Range(0, 3650, ErrorMessage = "Setting Sync__DisabledGraceDays must be between 0 and 3650.")]
    public int DisabledGraceDays { get; set; } = 30;

    /// <summary>Days the per-user history (<c>scimfn history</c>) keeps an action; PurgeDisabled deletes older rows.</summary>
    [Range(1, 3650, ErrorMessage = "Setting Sync__HistoryDays must be between 1 and 3650.")]
    public int HistoryDays { get; set; } = 30;

    /// <summary>A mapped user deleted on the target behind the connector's back: recreate it (true) or report it (false).</summary>
    public bool RecreateDeletedTargetUsers { get; set; } = true;

    /// <summary>Re-read, re-diff and retry this many times on a version conflict.</summary>
    [Range(1, 10, ErrorMessage = "Setting Sync__ConflictRetries must be between 1 and 10.")]
    public int ConflictRetries { get; set; } = 3;

    /// <summary>Objects converged at once by a full sync (the SCIM client's limiter paces the requests).</summary>
    [Range(1, 64, ErrorMessage = "Setting Sync__Parallelism must be between 1 and 64.")]
    public int Parallelism { get; set; } = 4;

    /// <summary>Deliveries of one work item (transient failures) before it is dead-lettered.</summary>
    [Range(1, 100, ErrorMessage = "Setting Sync__MaxAttempts must be between 1 and 100.")]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>First retry delay for a transient failure; doubles per attempt, capped at 15 minutes.</summary>
    [Range(1, 3600, ErrorMessage = "Setting Sync__RetryBaseDelaySeconds must be between 1 and 3600.")]
    public int RetryBaseDelaySeconds { get; set; } = 10;

    /// <summary>Follow-up work (a group whose member was just provisioned) waits this long, so a burst collapses into one.</summary>
    [Range(0, 3600, ErrorMessage = "Setting Sync__FollowUpDelaySeconds must be between 0 and 3600.")]
    public int FollowUpDelaySeconds { get; set; } = 30;

    /// <summary>Group work items from a delta sweep are scheduled this much later than user items, so users exist first.</summary>
    [Range(0, 3600, ErrorMessage = "Setting Sync__SweepGroupDelaySeconds must be between 0 and 3600.")]
    public int SweepGroupDelaySeconds { get; set; } = 60;

    /// <summary>How long one DeltaSweep or ReconcileGroups invocation reads pages before it stores where it got to and
    /// leaves the rest to the next run. host.json's functionTimeout is 5 minutes; the cap of 240 keeps a minute for the
    /// page in flight (its items queued, its checkpoint stored) and for the rest of the run.</summary>
    [Range(10, 240, ErrorMessage = "Setting Sync__TimerBudgetSeconds must be between 10 and 240 (host.json functionTimeout is 5 minutes).")]
    public int TimerBudgetSeconds { get; set; } = 180;

    /// <summary>ReconcileGroups also puts drifted managed users back to the last applied values (default: report only).</summary>
    public bool RemediateUserDrift { get; set; }

    /// <summary>RenewSubscriptions renews a subscription that expires within this many hours.</summary>
    [Range(1, 696, ErrorMessage = "Setting Sync__SubscriptionRenewalHours must be between 1 and 696.")]
    public int SubscriptionRenewalHours { get; set; } = 72;
}

/// <summary>One rule of the attribute mapping: a SCIM path fed from a Graph user property.</summary>
public sealed class AttributeMappingRule
{
    /// <summary>SCIM path, e.g. <c>userName</c>, <c>emails[type eq "work"].value</c>, <c>urn:…:enterprise:2.0:User:department</c>.</summary>
    public string Target { get; set; } = "";

    /// <summary>Graph property (<c>userPrincipalName</c>, <c>businessPhones</c>, <c>manager</c>, <c>id</c>, or any selected property).</summary>
    public string? Source { get; set; }

    /// <summary>Applied in order: <c>lower</c>, <c>upper</c>, <c>trim</c>, <c>first</c>, <c>e164</c>. A comma-separated string also works.</summary>
    public List<string>? Transforms { get; set; }

    /// <summary>Same as <see cref="Transforms"/>, as one comma-separated string.</summary>
    public string? Transform { get; set; }

    /// <summary>Used when the source is empty.</summary>
    public string? Default { get; set; }

    /// <summary>Always this value; the source is ignored.</summary>
    public string? Constant { get; set; }
}

/// <summary>Who is in scope (<c>Sync__Scope__Mode</c>).</summary>
public enum ScopeMode
{
    /// <summary>Every user the directory lists.</summary>
    [JsonStringEnumMemberName("all")] All,

    /// <summary>Members of <see cref="ScopeOptions.Groups"/>.</summary>
    [JsonStringEnumMemberName("groups")] Groups,

    /// <summary>Users matching <see cref="ScopeOptions.Filter"/>.</summary>
    [JsonStringEnumMemberName("filter")] Filter,
}

public sealed class ScopeOptions
{
    /// <summary><c>all</c> (default), <c>groups</c> (members of <see cref="Groups"/>) or <c>filter</c> (<see cref="Filter"/>).</summary>
    /// <remarks>Bound as the word the setting holds and validated against <see cref="ScopeMode"/>'s words, so a wrong
    /// word fails at start naming <c>Sync__Scope__Mode</c>; binding the enum directly would fail inside the binder
    /// with a message that names no setting.</remarks>
    [WireName<ScopeMode>(ErrorMessage = "Setting Sync__Scope__Mode must be all, groups or filter.")]
    public string Mode { get; set; } = "all";

    /// <summary>What <see cref="Mode"/> says; <see cref="ScopeMode.All"/> when empty (or a word validation rejects).</summary>
    public ScopeMode ParsedMode => WireNames<ScopeMode>.TryParse(Mode, out var mode) ? mode : ScopeMode.All;

    /// <summary>Comma-separated Entra group ids whose members are in scope (mode <c>groups</c>).</summary>
    public string? Groups { get; set; }

    /// <summary>Members of nested groups count too (mode <c>groups</c>).</summary>
    public bool Transitive { get; set; }

    /// <summary>Mode <c>filter</c>: clauses <c>property eq|ne|sw 'value'</c> joined by <c>and</c> / <c>or</c> (and binds tighter).</summary>
    public string? Filter { get; set; }

    /// <summary>How long the member lists of scope groups are cached in memory.</summary>
    [Range(0, 3600, ErrorMessage = "Setting Sync__Scope__GroupCacheSeconds must be between 0 and 3600.")]
    public int GroupCacheSeconds { get; set; } = 60;
}

public sealed class ThresholdOptions
{
    /// <summary>Destructive actions (disable, delete) allowed in any 60 minutes (a sliding window). At most 10,000: the
    /// window is one Table row.</summary>
    [Range(1, 10_000, ErrorMessage = "Setting Sync__Threshold__MaxActionsPerHour must be between 1 and 10000.")]
    public int MaxActionsPerHour { get; set; } = 500;

    /// <summary>Destructive actions allowed per hour as a fraction of managed users.</summary>
    [Range(0.0001, 1.0, ErrorMessage = "Setting Sync__Threshold__MaxFractionPerHour must be between 0.0001 and 1.")]
    public double MaxFractionPerHour { get; set; } = 0.2;

    /// <summary>The fraction never allows fewer than this many actions (so a small tenant can still lose a few people).</summary>
    [Range(0, int.MaxValue, ErrorMessage = "Setting Sync__Threshold__MinimumActions must not be negative.")]
    public int MinimumActions { get; set; } = 10;
}

public sealed class GroupSyncOptions
{
    /// <summary>Converge group memberships at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Comma-separated Entra group ids or display names to manage; empty: every Entra group (unmatched ones are reported).</summary>
    public string? Include { get; set; }

    /// <summary>Explicit map: Entra group id or display name → target group display name or <c>id:</c>target id.</summary>
    public Dictionary<string, string> Map { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Flatten nested groups: members of member groups become members.</summary>
    public bool Transitive { get; set; }
}
