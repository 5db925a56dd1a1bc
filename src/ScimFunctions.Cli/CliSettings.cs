using System.CommandLine;
using Microsoft.Extensions.Configuration;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Cli;

/// <summary>An option that can also come from an app setting (environment variable) the Functions app reads.
/// The command line wins over the setting; the setting wins over the default.</summary>
/// <param name="Setting">The setting's name as an environment variable (<c>Scim__BaseUrl</c>).</param>
internal sealed record SettingOption(Option<string> Option, string Setting, string? Default = null)
{
    /// <summary>The configuration key (<c>Scim:BaseUrl</c>), as <c>AddEnvironmentVariables</c> maps <c>Scim__BaseUrl</c>.</summary>
    public string Key => Setting.Replace("__", ":", StringComparison.Ordinal);

    /// <summary>"--scim-url (setting Scim__BaseUrl)": how an error names where the value comes from.</summary>
    public string Names => $"{Option.Name} (setting {Setting})";

    public string? Resolve(ParseResult parseResult, IConfiguration settings)
    {
        var value = parseResult.GetValue(Option);
        if (string.IsNullOrWhiteSpace(value))
        {
            value = settings[Key];
        }

        return string.IsNullOrWhiteSpace(value) ? Default : value.Trim();
    }

    public static SettingOption Create(string name, string setting, string description, string? defaultValue = null, string? helpName = null)
    {
        var text = $"{description} Setting: {setting}.";
        if (defaultValue is not null)
        {
            text += $" Default: {defaultValue}.";
        }

        var option = new Option<string>(name) { Description = text, HelpName = helpName };
        return new SettingOption(option, setting, defaultValue);
    }
}

/// <summary>Every setting-backed option of <c>scimfn</c>, with the setting it shares with the Functions app.
/// One instance per parser: options hold their parents, so parsers never share them.</summary>
internal sealed class CliSettings
{
    public const string GraphDirectory = "graph";
    public const string GenesysTarget = "genesys";
    public const string ScimTarget = "scim";
    public const string DefaultState = "UseDevelopmentStorage=true";

    public SettingOption Directory { get; } = SettingOption.Create(
        "--directory", "Scimfn__Directory",
        "Where users and groups come from: 'graph' (Microsoft Graph, signed in as the Graph__Credential setting says, or with --graph-token) or the path of a directory snapshot file (JSON, see docs/directory.md).",
        GraphDirectory, helpName: "graph|PATH.json");

    public SettingOption GraphUrl { get; } = SettingOption.Create(
        "--graph-url", "Graph__BaseUrl", "Microsoft Graph base URL (a Graph test double, a national cloud).", GraphOptions.DefaultBaseUrl, helpName: "URL");

    public SettingOption GraphToken { get; } = SettingOption.Create(
        "--graph-token", "Graph__StaticToken",
        "A Graph bearer token obtained elsewhere (implies Graph__Credential=token). Prefer the setting: a command line is visible to other users of the machine.",
        helpName: "TOKEN");

    public SettingOption Target { get; } = SettingOption.Create(
        "--target", "Scim__Profile", "The kind of SCIM target: 'genesys' (Genesys Cloud) or 'scim' (any RFC 7644 server).", GenesysTarget, helpName: "genesys|scim");

    public SettingOption ScimUrl { get; } = SettingOption.Create(
        "--scim-url", "Scim__BaseUrl", "SCIM base URL of the target, e.g. https://api.mypurecloud.com/api/v2/scim/v2.", helpName: "URL");

    public SettingOption ScimToken { get; } = SettingOption.Create(
        "--scim-token", "Scim__BearerToken",
        "The bearer token the SCIM server issued (--target scim; Genesys Cloud uses the client credentials below). Prefer the setting: a command line is visible to other users of the machine.",
        helpName: "TOKEN");

    public SettingOption GenesysClientId { get; } = SettingOption.Create(
        "--genesys-client-id", "Scim__ClientId", "Genesys Cloud OAuth client id (client credentials grant).", helpName: "ID");

    public SettingOption GenesysClientSecret { get; } = SettingOption.Create(
        "--genesys-client-secret", "Scim__ClientSecret",
        "Genesys Cloud OAuth client secret. Prefer the setting: a command line is visible to other users of the machine.",
        helpName: "SECRET");

    public SettingOption GenesysLoginUrl { get; } = SettingOption.Create(
        "--genesys-login-url", "Scim__LoginUrl",
        "Genesys Cloud login base URL; /oauth/token is appended. Default: derived from --scim-url (https://api.REGION/... gives https://login.REGION; a loopback emulator URL gives its own origin).",
        helpName: "URL");

    public SettingOption State { get; } = SettingOption.Create(
        "--state", "State__ConnectionString",
        "Table Storage connection string for the mapping state shared with the functions, or a table service URI (https://ACCOUNT.table.core.windows.net, signed in with DefaultAzureCredential; setting State__TableServiceUri).",
        DefaultState, helpName: "CONNECTION_STRING");

    /// <summary>Not in <see cref="All"/>: only <c>replay</c> talks to Service Bus.</summary>
    public SettingOption ServiceBus { get; } = SettingOption.Create(
        "--service-bus", "ServiceBusConnection",
        "The Service Bus namespace of the provisioning queue: a connection string (Endpoint=sb://...), or the namespace host (contoso.servicebus.windows.net, signed in with DefaultAzureCredential; setting ServiceBusConnection__fullyQualifiedNamespace).",
        helpName: "CONNECTION_STRING|NAMESPACE");

    public SettingOption Queue { get; } = SettingOption.Create(
        "--queue", "ProvisioningQueueName", "The provisioning queue (main.bicep output provisioningQueueName).", "provisioning", helpName: "NAME");

    public IReadOnlyList<SettingOption> DirectoryOptions => [Directory, GraphUrl, GraphToken];

    public IReadOnlyList<SettingOption> TargetOptions => [Target, ScimUrl, ScimToken, GenesysClientId, GenesysClientSecret, GenesysLoginUrl];

    public IReadOnlyList<SettingOption> All => [.. DirectoryOptions, .. TargetOptions, State];
}
