using System.ComponentModel.DataAnnotations;

namespace GenesysScimEmulator;

/// <summary>Settings of the emulator (section <c>Emulator</c>: <c>Emulator__ConflictStatus=409</c>,
/// <c>--Emulator:ConflictStatus 409</c> or appsettings.json). Behaviours the vendor leaves open
/// ([uncertain Un] in the Genesys reference) are switches here; their defaults are the stricter
/// reading that a client following the reference's safe rules survives.
/// Every setting can also be changed at run time through <c>PATCH /_emulator/settings</c>.</summary>
public sealed class EmulatorOptions
{
    public const string Section = "Emulator";

    [Required(ErrorMessage = "Emulator__ClientId is required: the OAuth client id POST /oauth/token accepts.")]
    public string ClientId { get; set; } = "local-client";

    [Required(ErrorMessage = "Emulator__ClientSecret is required: the OAuth client secret POST /oauth/token accepts.")]
    public string ClientSecret { get; set; } = "local-secret";

    /// <summary>expires_in of issued tokens. Genesys allows 300–172800 per OAuth client (default 86400);
    /// shorter values are allowed here so tests can expire tokens quickly.</summary>
    [Range(1, 172_800, ErrorMessage = "Emulator__TokenLifetimeSeconds must be between 1 and 172800.")]
    public int TokenLifetimeSeconds { get; set; } = 86_400;

    /// <summary>U5: status for a stale If-Match: 400 scimType invalidVers (the parameter text) or 409
    /// "Version does not match current version." (the swagger response table).</summary>
    [AllowedValues(400, 409, ErrorMessage = "Emulator__ConflictStatus must be 400 (invalidVers) or 409.")]
    public int ConflictStatus { get; set; } = 400;

    /// <summary>Requests per minute per bearer token before 429 (0: no limit). Genesys: 300.</summary>
    [Range(0, int.MaxValue, ErrorMessage = "Emulator__RateLimitPerMinute must be 0 (off) or more.")]
    public int RateLimitPerMinute { get; set; } = 300;

    /// <summary>Count the requests of every token issued together, as one OAuth client's budget (the emulator serves one
    /// client), instead of per token: several processes with a token each then share one limit.</summary>
    public bool RateLimitPerClient { get; set; }

    /// <summary>§5.3/U9: a user page larger than <see cref="LargePageThreshold"/> that still returns
    /// externalId, roles, routingSkills or routingLanguages answers 429.</summary>
    public bool LargePageThrottling { get; set; } = true;

    [Range(1, int.MaxValue, ErrorMessage = "Emulator__LargePageThreshold must be at least 1.")]
    public int LargePageThreshold { get; set; } = 25;

    /// <summary>U8: GET /api/v2/scim/v2/groups without a filter answers 400 (the swagger marks it required).
    /// The legacy path always lists all groups.</summary>
    public bool RequireGroupFilterOnV2 { get; set; } = true;

    /// <summary>U17: whether filtered user lists (other than <c>active eq …</c>) include inactive users.</summary>
    public bool FilteredListsIncludeInactive { get; set; }

    /// <summary>U15: POST of a deleted user's userName revives the old id (true) or mints a new one.</summary>
    public bool ReuseDeletedUserId { get; set; }

    /// <summary>U14: what a user PUT/PATCH that writes <c>groups</c> gets.</summary>
    public WritePolicy UserGroupsWrite { get; set; } = WritePolicy.Reject;

    /// <summary>U11: a group PUT/PATCH with a different displayName: Reject (400 mutability), Ignore, Allow.</summary>
    public RenamePolicy GroupRename { get; set; } = RenamePolicy.Reject;

    /// <summary>U12: group members that are not live user ids.</summary>
    public WritePolicy UnknownMemberIds { get; set; } = WritePolicy.Reject;

    /// <summary>U13: most member values one group PATCH may carry (0: no cap).</summary>
    [Range(0, int.MaxValue, ErrorMessage = "Emulator__MaxMembersPerPatch must be 0 (no cap) or more.")]
    public int MaxMembersPerPatch { get; set; } = 50;

    /// <summary>U6: meta.version carries the quotes of the ETag (<c>"\"42\""</c>) or is bare (<c>"42"</c>).</summary>
    public bool QuoteMetaVersion { get; set; } = true;

    /// <summary>U10: list in a stable but arbitrary order instead of creation order.</summary>
    public bool ShuffleListOrder { get; set; }

    /// <summary>U2: accept PATCH <c>op</c> in any case (Entra sends "Add"/"Replace"/"Remove").</summary>
    public bool CaseInsensitivePatchOp { get; set; } = true;

    /// <summary>U18: body shape of 404 answers: Scim (ScimError, status as string) or Platform (Genesys ErrorBody).</summary>
    public ErrorShape NotFoundBody { get; set; } = ErrorShape.Scim;

    /// <summary>U23: success status of POST /users (201 or 200).</summary>
    [AllowedValues(200, 201, ErrorMessage = "Emulator__CreatedStatus must be 201 or 200.")]
    public int CreatedStatus { get; set; } = 201;

    /// <summary>U23: success status of DELETE /users/{id} (204, or 200 with an empty body).</summary>
    [AllowedValues(200, 204, ErrorMessage = "Emulator__DeletedStatus must be 204 or 200.")]
    public int DeletedStatus { get; set; } = 204;

    /// <summary>U22: status of the removed POST /groups and DELETE /groups/{id} (404 or 405).</summary>
    [AllowedValues(404, 405, ErrorMessage = "Emulator__RemovedGroupOperationStatus must be 404 or 405.")]
    public int RemovedGroupOperationStatus { get; set; } = 405;

    /// <summary>U25: role, division, skill and language names the org knows. Empty: any name is known.</summary>
    public List<string> Roles { get; set; } = [];

    public List<string> Divisions { get; set; } = [];

    public List<string> RoutingSkills { get; set; } = [];

    public List<string> RoutingLanguages { get; set; } = [];

    /// <summary>U25: a name missing from a non-empty list above: Reject (400 invalidValue) or Ignore (dropped).</summary>
    public WritePolicy UnknownNames { get; set; } = WritePolicy.Reject;

    /// <summary>Division of a user written without one (Genesys puts every user in a division). Empty: none.</summary>
    public string DefaultDivision { get; set; } = "Home";

    /// <summary>Role a newly created user gets when the body has none (not on re-creation of a deleted
    /// userName, as Genesys does not restore it). Empty: none.</summary>
    public string DefaultRole { get; set; } = "employee";

    /// <summary>request.bytes.max: larger bodies answer 413.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "Emulator__MaxRequestBytes must be positive.")]
    public int MaxRequestBytes { get; set; } = 512_000;

    /// <summary>Seed file loaded at start and on reset (also <c>--seed PATH</c>).</summary>
    public string? SeedPath { get; set; }

    /// <summary>Seed of the fault-injection random generator, for reproducible runs. Null: random.</summary>
    public int? FaultSeed { get; set; }

    public EmulatorOptions Clone()
    {
        var copy = (EmulatorOptions)MemberwiseClone();
        copy.Roles = [.. Roles];
        copy.Divisions = [.. Divisions];
        copy.RoutingSkills = [.. RoutingSkills];
        copy.RoutingLanguages = [.. RoutingLanguages];
        return copy;
    }
}

public enum WritePolicy
{
    Reject,
    Ignore,
}

public enum RenamePolicy
{
    Reject,
    Ignore,
    Allow,
}

public enum ErrorShape
{
    Scim,
    Platform,
}
