using System.CommandLine;
using Microsoft.Extensions.Configuration;
using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Cli;

/// <summary>A usage or configuration error: one line naming the option or setting; exit code 1.</summary>
internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>What the engine is built from: the app settings (environment) overlaid with the command line's values
/// under the same keys, so the engine's, the SCIM client's and the directory's own registrations read them.</summary>
/// <param name="Connected">The command talks to the directory and the target; otherwise only Table Storage is used.</param>
/// <param name="SnapshotPath">The snapshot file to read instead of Microsoft Graph (connected commands only).</param>
internal sealed record EngineSettings(bool Connected, string? SnapshotPath, IConfiguration Settings);

/// <summary>Turns options and settings into <see cref="EngineSettings"/> and checks them with the components'
/// own validators, so a mistake is reported before anything is contacted, as one line naming the option.</summary>
internal sealed class EngineSettingsResolver(CliSettings options, IConfiguration settings)
{
    public EngineSettings Resolve(ParseResult parseResult, bool connected)
    {
        var overrides = new Dictionary<string, string?>();
        string? Put(SettingOption option)
        {
            var value = option.Resolve(parseResult, settings);
            if (value is not null)
            {
                overrides[option.Key] = value;
            }

            return value;
        }

        string? snapshot = null;
        if (connected)
        {
            foreach (var option in options.TargetOptions)
            {
                Put(option);
            }

            Put(options.GraphUrl);
            if (Put(options.GraphToken) is not null)
            {
                overrides[$"{GraphOptions.Section}:{nameof(GraphOptions.Credential)}"] = GraphCredentialKinds.Token;
            }

            snapshot = ResolveSnapshot(options.Directory.Resolve(parseResult, settings) ?? CliSettings.GraphDirectory);
        }

        ResolveState(parseResult, overrides);
        var merged = new ConfigurationBuilder().AddConfiguration(settings).AddInMemoryCollection(overrides).Build();
        Validate(merged, connected, graph: connected && snapshot is null);
        return new EngineSettings(connected, snapshot, merged);
    }

    /// <summary>"Setting Scim__ClientId is required" becomes "--genesys-client-id (setting Scim__ClientId) is required".</summary>
    public string NameOptions(string message)
    {
        foreach (var option in options.All)
        {
            message = message.Replace($"Setting {option.Setting}", option.Names, StringComparison.Ordinal);
        }

        return message;
    }

    private string? ResolveSnapshot(string source)
    {
        if (string.Equals(source, CliSettings.GraphDirectory, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var path = Path.GetFullPath(source);
        return File.Exists(path)
            ? path
            : throw new CliUsageException($"{options.Directory.Names}: no snapshot file at '{source}' (give 'graph' or the path of a snapshot JSON file).");
    }

    /// <summary>--state takes a connection string or a table service URI; without it the settings decide,
    /// and only when they name no account does the local default (Azurite) apply.</summary>
    private void ResolveState(ParseResult parseResult, Dictionary<string, string?> overrides)
    {
        const string connectionKey = $"{StateOptions.Section}:{nameof(StateOptions.ConnectionString)}";
        const string uriKey = $"{StateOptions.Section}:{nameof(StateOptions.TableServiceUri)}";
        var value = parseResult.GetValue(options.State.Option)?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            if (string.IsNullOrWhiteSpace(settings[connectionKey]) && string.IsNullOrWhiteSpace(settings[uriKey]))
            {
                overrides[connectionKey] = CliSettings.DefaultState;
            }

            return;
        }

        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
        {
            overrides[uriKey] = value;
            overrides[connectionKey] = "";
        }
        else
        {
            overrides[connectionKey] = value;
        }
    }

    private void Validate(IConfiguration merged, bool connected, bool graph)
    {
        // The components' own validators (the ones their registrations run at start), so the messages are the same.
        var failures = new List<string>();
        failures.AddRange(new StateOptionsValidator().Failures(merged.GetSection(StateOptions.Section).Get<StateOptions>() ?? new StateOptions()));

        if (connected)
        {
            var scim = merged.GetSection(ScimOptions.Section).Get<ScimOptions>() ?? new ScimOptions();
            if (!string.Equals(scim.Profile, CliSettings.ScimTarget, StringComparison.OrdinalIgnoreCase)
                && !string.IsNullOrWhiteSpace(scim.BearerToken) && (string.IsNullOrWhiteSpace(scim.ClientId) || string.IsNullOrWhiteSpace(scim.ClientSecret)))
            {
                // The SCIM client signs in to Genesys Cloud with client credentials only (it refreshes its own tokens).
                failures.Add($"{options.ScimToken.Names} is not used for --target genesys yet: give {options.GenesysClientId.Names} and {options.GenesysClientSecret.Names}.");
            }

            failures.AddRange(new ScimOptionsValidator().Failures(scim));
        }

        if (graph)
        {
            failures.AddRange(new GraphOptionsValidator().Failures(merged.GetSection(GraphOptions.Section).Get<GraphOptions>() ?? new GraphOptions()));
        }

        if (failures.Count > 0)
        {
            // One line: the first problem; fixing it reveals the next.
            throw new CliUsageException(NameOptions(failures[0]));
        }
    }
}
