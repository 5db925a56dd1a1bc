using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace ScimFunctions.Cli;

/// <summary>A usage or configuration error: one line naming the option or setting; exit code 1.</summary>
internal sealed class CliUsageException(string message) : Exception(message);

/// <param name="SnapshotPath">A snapshot file; null for Microsoft Graph.</param>
/// <param name="GraphToken">A static Graph token; null for app-only credentials from the Graph__ settings.</param>
internal sealed record DirectoryChoice(string? SnapshotPath, Uri GraphUrl, string? GraphToken);

/// <param name="Kind"><see cref="CliSettings.GenesysTarget"/> or <see cref="CliSettings.ScimTarget"/>.</param>
/// <param name="Token">A static bearer token; when set, client credentials are not used.</param>
/// <param name="LoginUrl">Genesys login base URL (client credentials only).</param>
internal sealed record TargetChoice(string Kind, Uri ScimUrl, string? Token, string? ClientId, string? ClientSecret, Uri? LoginUrl);

/// <summary>What a command needs, validated, plus the settings as the engine's registrations read them:
/// the environment overlaid with the command line's values under the same keys.</summary>
internal sealed record EngineSettings(DirectoryChoice? Directory, TargetChoice? Target, string StateConnection, IConfiguration Settings);

/// <summary>Turns options and settings into <see cref="EngineSettings"/>, or a one-line error.</summary>
internal sealed class EngineSettingsResolver(CliSettings options, IConfiguration settings)
{
    public EngineSettings Resolve(ParseResult parseResult, bool needsDirectory, bool needsTarget)
    {
        var overrides = new Dictionary<string, string?>();
        string? Get(SettingOption option)
        {
            var value = option.Resolve(parseResult, settings);
            if (value is not null)
            {
                overrides[option.Key] = value;
            }

            return value;
        }

        var directory = needsDirectory ? ResolveDirectory(Get) : null;
        var target = needsTarget ? ResolveTarget(Get) : null;
        var state = Get(options.State) ?? CliSettings.DefaultState;

        var merged = new ConfigurationBuilder().AddConfiguration(settings).AddInMemoryCollection(overrides).Build();
        return new EngineSettings(directory, target, state, merged);
    }

    private DirectoryChoice ResolveDirectory(Func<SettingOption, string?> get)
    {
        var source = get(options.Directory) ?? CliSettings.GraphDirectory;
        var graphUrl = AbsoluteHttpUrl(options.GraphUrl, get(options.GraphUrl) ?? CliSettings.DefaultGraphUrl);
        var token = get(options.GraphToken);
        if (string.Equals(source, CliSettings.GraphDirectory, StringComparison.OrdinalIgnoreCase))
        {
            return new DirectoryChoice(null, graphUrl, token);
        }

        var path = Path.GetFullPath(source);
        if (!File.Exists(path))
        {
            throw new CliUsageException($"{options.Directory.Names}: no snapshot file at '{source}' (give 'graph' or the path of a snapshot JSON file).");
        }

        return new DirectoryChoice(path, graphUrl, token);
    }

    private TargetChoice ResolveTarget(Func<SettingOption, string?> get)
    {
        var kind = (get(options.Target) ?? CliSettings.GenesysTarget).ToLowerInvariant();
        if (kind is not (CliSettings.GenesysTarget or CliSettings.ScimTarget))
        {
            throw new CliUsageException($"{options.Target.Names} must be '{CliSettings.GenesysTarget}' or '{CliSettings.ScimTarget}', not '{kind}'.");
        }

        var scimUrlText = get(options.ScimUrl)
            ?? throw new CliUsageException($"{options.ScimUrl.Names} is required: the SCIM base URL of the target, e.g. https://api.mypurecloud.com/api/v2/scim/v2.");
        var scimUrl = AbsoluteHttpUrl(options.ScimUrl, scimUrlText);
        var token = get(options.ScimToken);
        var clientId = get(options.GenesysClientId);
        var clientSecret = get(options.GenesysClientSecret);
        if (token is not null)
        {
            return new TargetChoice(kind, scimUrl, token, null, null, null);
        }

        if (kind == CliSettings.ScimTarget)
        {
            throw new CliUsageException($"{options.ScimToken.Names} is required for --target scim: the bearer token the SCIM server accepts.");
        }

        if (clientId is null || clientSecret is null)
        {
            var missing = clientId is null ? options.GenesysClientId : options.GenesysClientSecret;
            throw new CliUsageException($"{missing.Names} is required for --target genesys unless {options.ScimToken.Names} is given: Genesys Cloud OAuth client credentials.");
        }

        var loginText = get(options.GenesysLoginUrl);
        Uri loginUrl;
        if (loginText is not null)
        {
            loginUrl = AbsoluteHttpUrl(options.GenesysLoginUrl, loginText);
        }
        else
        {
            loginUrl = GenesysLoginUrlFor(scimUrl)
                ?? throw new CliUsageException($"{options.GenesysLoginUrl.Names} is required: it cannot be derived from --scim-url host '{scimUrl.Host}' (expected api.REGION-DOMAIN).");
        }

        return new TargetChoice(kind, scimUrl, null, clientId, clientSecret, loginUrl);
    }

    /// <summary>Genesys Cloud serves the API on api.{region domain} and tokens on login.{region domain}.</summary>
    public static Uri? GenesysLoginUrlFor(Uri scimUrl)
    {
        const string api = "api.";
        var host = scimUrl.Host;
        if (!host.StartsWith(api, StringComparison.OrdinalIgnoreCase) || !host[api.Length..].Contains('.', StringComparison.Ordinal))
        {
            return null;
        }

        return new Uri($"https://login.{host[api.Length..]}");
    }

    private static Uri AbsoluteHttpUrl(SettingOption option, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new CliUsageException($"{option.Names} must be an absolute http(s) URL, not '{value}'.");
        }

        return uri;
    }
}
