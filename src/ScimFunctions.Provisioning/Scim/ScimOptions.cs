using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Which kind of SCIM server the connector talks to.</summary>
public enum ScimTargetProfile
{
    /// <summary>Genesys Cloud: OAuth client credentials, lower-case paths, Genesys extension, no group create/delete.</summary>
    Genesys,

    /// <summary>Any RFC 7644 server: a static bearer token, <c>/Users</c> and <c>/Groups</c>, core and enterprise schemas.</summary>
    Scim,
}

/// <summary>Settings section <c>Scim</c>: the SCIM target and how politely the client treats it.</summary>
public sealed class ScimOptions
{
    public const string Section = "Scim";

    /// <summary><c>genesys</c> (default) or <c>scim</c>.</summary>
    public string Profile { get; set; } = "genesys";

    /// <summary>SCIM base URL. Genesys: <c>https://api.{region}/api/v2/scim/v2</c> (or the legacy <c>/api/v2/scim</c>).</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Genesys only: where <c>/oauth/token</c> lives. Default: the BaseUrl host with <c>api.</c> replaced by
    /// <c>login.</c>; for a loopback BaseUrl (emulator), the BaseUrl's origin.</summary>
    public string? LoginUrl { get; set; }

    /// <summary>Genesys only: the OAuth client id (client credentials grant).</summary>
    public string? ClientId { get; set; }

    /// <summary>Genesys only: the OAuth client secret. A Key Vault reference in Azure; never logged.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>scim profile only: the bearer token the server issued. Never logged.</summary>
    public string? BearerToken { get; set; }

    /// <summary>The target's request budget per credential. Genesys publishes 300 per minute per token.</summary>
    [Range(1, 100_000, ErrorMessage = "Setting Scim__RequestsPerMinute must be between 1 and 100000.")]
    public int RequestsPerMinute { get; set; } = 300;

    /// <summary>Requests that may go out back to back before the steady rate applies. The steady rate is
    /// (RequestsPerMinute − RequestBurst) per minute, so no 60-second window ever sees more than RequestsPerMinute.</summary>
    [Range(1, 10_000, ErrorMessage = "Setting Scim__RequestBurst must be between 1 and 10000.")]
    public int RequestBurst { get; set; } = 10;

    /// <summary>Table Storage table through which every instance of the app shares the target's budget
    /// (<see cref="ScimSharedBudget"/>); then <see cref="RequestsPerMinute"/> is the budget of all instances together.
    /// Empty: each process has its own limiter at RequestsPerMinute (the CLI, a single instance).</summary>
    public string? SharedBudgetTable { get; set; }

    /// <summary>Member values per group PATCH (Genesys: undocumented, 50 is the platform's member limit elsewhere).</summary>
    [Range(1, 1000, ErrorMessage = "Setting Scim__MemberChunkSize must be between 1 and 1000.")]
    public int MemberChunkSize { get; set; } = 50;

    /// <summary><c>value</c> (default): remove members as <c>path:"members"</c> with a value array (Entra's form);
    /// <c>filter</c>: one <c>members[value eq "id"]</c> operation per member, for servers that reject the first.</summary>
    public string MemberRemoveStyle { get; set; } = "value";

    /// <summary>Total time one client call may take, queueing, back-off and retries included. Below the
    /// Service Bus lock (60 s or more) so a message is never processed past its lock.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00", ErrorMessage = "Setting Scim__CallTimeBudget must be between 00:00:00.100 and 00:10:00.")]
    public TimeSpan CallTimeBudget { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Time one HTTP attempt may take before it counts as a transient failure.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00", ErrorMessage = "Setting Scim__AttemptTimeout must be between 00:00:00.050 and 00:05:00.")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries after a transient failure (5xx, timeout, reset). 429s are retried within the call budget regardless.</summary>
    [Range(0, 10, ErrorMessage = "Setting Scim__MaxRetries must be between 0 and 10.")]
    public int MaxRetries { get; set; } = 3;

    /// <summary>First back-off delay; later ones grow exponentially with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00", ErrorMessage = "Setting Scim__RetryBaseDelay must be between 00:00:00.001 and 00:01:00.")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>scim profile only: allow creating (and deleting) groups. Off by default; groups are usually owned by the target.</summary>
    public bool CreateGroups { get; set; }

    internal ScimTargetProfile TargetProfile =>
        string.Equals(Profile, "scim", StringComparison.OrdinalIgnoreCase) ? ScimTargetProfile.Scim : ScimTargetProfile.Genesys;

    internal bool RemoveMembersByFilter => string.Equals(MemberRemoveStyle, "filter", StringComparison.OrdinalIgnoreCase);

    internal Uri BaseUri => new(BaseUrl!.EndsWith('/') ? BaseUrl : BaseUrl + "/", UriKind.Absolute);

    /// <summary>The token endpoint, from LoginUrl or derived from BaseUrl; null when it cannot be derived.</summary>
    internal Uri? TokenEndpoint
    {
        get
        {
            var login = DeriveLoginBase();
            return login is null ? null : new Uri(login, "oauth/token");
        }
    }

    private Uri? DeriveLoginBase()
    {
        if (!string.IsNullOrWhiteSpace(LoginUrl))
        {
            return Uri.TryCreate(LoginUrl.EndsWith('/') ? LoginUrl : LoginUrl + "/", UriKind.Absolute, out var explicitLogin) ? explicitLogin : null;
        }

        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var baseUri))
        {
            return null;
        }

        if (baseUri.Host.StartsWith("api.", StringComparison.OrdinalIgnoreCase))
        {
            return new UriBuilder(baseUri.Scheme, "login." + baseUri.Host["api.".Length..], baseUri.Port, "/").Uri;
        }

        // An emulator serves /oauth/token next to the SCIM paths.
        return ScimOptionsValidator.IsLoopback(baseUri) ? new UriBuilder(baseUri.Scheme, baseUri.Host, baseUri.Port, "/").Uri : null;
    }
}

/// <summary>Every check of the <c>Scim</c> settings (the attributes and the rules that span settings); every message
/// names the setting to fix and never echoes a secret.</summary>
public sealed class ScimOptionsValidator : IValidateOptions<ScimOptions>
{
    public ValidateOptionsResult Validate(string? name, ScimOptions options)
    {
        // The attributes on ScimOptions first, then the rules that span settings: the one validator of this class.
        var failures = OptionsChecks.DataAnnotations(options, "Invalid Scim setting.").ToList();
        var profileKnown = string.Equals(options.Profile, "genesys", StringComparison.OrdinalIgnoreCase)
            || string.Equals(options.Profile, "scim", StringComparison.OrdinalIgnoreCase);
        if (!profileKnown)
        {
            failures.Add($"Setting Scim__Profile must be 'genesys' or 'scim' (found '{options.Profile}').");
        }

        if (string.IsNullOrWhiteSpace(options.BaseUrl))
        {
            failures.Add("Setting Scim__BaseUrl is required: the SCIM base URL, e.g. https://api.mypurecloud.com/api/v2/scim/v2.");
        }
        else
        {
            CheckUrl("Scim__BaseUrl", options.BaseUrl, failures);
        }

        if (!string.Equals(options.MemberRemoveStyle, "value", StringComparison.OrdinalIgnoreCase) && !options.RemoveMembersByFilter)
        {
            failures.Add($"Setting Scim__MemberRemoveStyle must be 'value' or 'filter' (found '{options.MemberRemoveStyle}').");
        }

        if (options.RequestBurst >= options.RequestsPerMinute)
        {
            failures.Add("Setting Scim__RequestBurst must be less than Scim__RequestsPerMinute: the burst is taken out of the per-minute budget.");
        }

        if (!string.IsNullOrEmpty(options.SharedBudgetTable))
        {
            if (!IsTableName(options.SharedBudgetTable))
            {
                failures.Add("Setting Scim__SharedBudgetTable must be a Table Storage table name: 3 to 63 letters and digits, starting with a letter.");
            }

            if (options.RequestsPerMinute < 14)
            {
                failures.Add("Setting Scim__RequestsPerMinute must be at least 14 with Scim__SharedBudgetTable: the shared budget hands out whole requests in 5-second slots.");
            }
        }

        if (options.AttemptTimeout >= options.CallTimeBudget)
        {
            failures.Add("Setting Scim__AttemptTimeout must be shorter than Scim__CallTimeBudget, or no attempt could be retried.");
        }

        if (profileKnown && options.TargetProfile == ScimTargetProfile.Genesys)
        {
            ValidateGenesys(options, failures);
        }
        else if (profileKnown)
        {
            if (string.IsNullOrWhiteSpace(options.BearerToken))
            {
                failures.Add("Setting Scim__BearerToken is required for the scim profile: the token the SCIM server issued.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateGenesys(ScimOptions options, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            failures.Add("Setting Scim__ClientId is required for the genesys profile: the OAuth client (client credentials) id.");
        }

        if (string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            failures.Add("Setting Scim__ClientSecret is required for the genesys profile: the OAuth client secret.");
        }

        if (options.CreateGroups)
        {
            failures.Add("Setting Scim__CreateGroups applies to the scim profile only: Genesys Cloud groups cannot be created or deleted through SCIM.");
        }

        if (!string.IsNullOrWhiteSpace(options.LoginUrl))
        {
            CheckUrl("Scim__LoginUrl", options.LoginUrl, failures);
        }
        else if (!string.IsNullOrWhiteSpace(options.BaseUrl) && Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out _) && options.TokenEndpoint is null)
        {
            failures.Add("Setting Scim__LoginUrl is required when the Scim__BaseUrl host does not start with 'api.' (it cannot be derived as login.{region}).");
        }
    }

    private static void CheckUrl(string setting, string value, List<string> failures)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"Setting {setting} must be an absolute http(s) URL.");
            return;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            failures.Add($"Setting {setting} must not carry credentials in the URL; use the credential settings.");
            return;
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            failures.Add($"Setting {setting} must not have a query or fragment.");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
        {
            failures.Add($"Setting {setting} must use https: plain http is allowed only to a loopback address (127.0.0.0/8, ::1, localhost), not to {uri.Host}.");
        }
    }

    private static bool IsTableName(string name) =>
        name.Length is >= 3 and <= 63 && char.IsAsciiLetter(name[0]) && name.All(char.IsAsciiLetterOrDigit);

    /// <summary>127.0.0.0/8, ::1 and the name localhost.</summary>
    internal static bool IsLoopback(Uri uri) =>
        string.Equals(uri.DnsSafeHost, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));
}
