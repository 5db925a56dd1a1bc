using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>Settings section <c>Graph</c>: where Microsoft Graph is and how to sign in to it.</summary>
public sealed class GraphOptions
{
    public const string Section = "Graph";
    public const string DefaultBaseUrl = "https://graph.microsoft.com/v1.0";

    /// <summary>Graph root including the version segment. A local Graph test double is <c>http://127.0.0.1:port/v1.0</c>.</summary>
    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary><c>managedidentity</c> (default), <c>clientsecret</c>, <c>certificate</c> or <c>token</c>.</summary>
    public string Credential { get; set; } = GraphCredentialKinds.ManagedIdentity;

    /// <summary>Directory (tenant) id; required for <c>clientsecret</c> and <c>certificate</c>.</summary>
    public string? TenantId { get; set; }

    /// <summary>App registration client id (<c>clientsecret</c>, <c>certificate</c>), or a user-assigned
    /// managed identity's client id (<c>managedidentity</c>; empty = system-assigned).</summary>
    public string? ClientId { get; set; }

    /// <summary>Client secret for <c>clientsecret</c>. A Key Vault reference in Azure; never logged.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Path of a PFX/PEM certificate with its private key, for <c>certificate</c>.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of the certificate file, when it has one.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>A bearer token obtained elsewhere (<c>token</c>); sent to <see cref="BaseUrl"/>'s host only.</summary>
    public string? StaticToken { get; set; }

    /// <summary>Comma-separated further user properties to read (e.g. <c>companyName,employeeOrgData</c>);
    /// they arrive in <see cref="DirectoryUser.Properties"/>.</summary>
    public string? UserSelect { get; set; }

    /// <summary>Retries of one request on 429/503/504 (the SDK's retry middleware, honouring Retry-After).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Cap on the total time one request may spend waiting between retries.</summary>
    public int RetryTimeLimitSeconds { get; set; } = 60;

    /// <summary>Timeout of one HTTP attempt.</summary>
    public int TimeoutSeconds { get; set; } = 60;

    /// <summary>Members read per page (Graph allows up to 999).</summary>
    public int MembersPageSize { get; set; } = 999;

    internal IReadOnlyList<string> ExtraUserProperties() =>
        (UserSelect ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>The values of <c>Graph__Credential</c>.</summary>
public static class GraphCredentialKinds
{
    public const string ManagedIdentity = "managedidentity";
    public const string ClientSecret = "clientsecret";
    public const string Certificate = "certificate";
    public const string Token = "token";
}

/// <summary>Checks <see cref="GraphOptions"/> as a whole; every message names the setting to fix.</summary>
public sealed partial class GraphOptionsValidator : IValidateOptions<GraphOptions>
{
    public ValidateOptionsResult Validate(string? name, GraphOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>The same checks for hosts without options validation (the CLI).</summary>
    public static void ThrowIfInvalid(GraphOptions options)
    {
        var errors = Check(options);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(GraphOptions.Section, typeof(GraphOptions), errors);
        }
    }

    internal static List<string> Check(GraphOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUrl)
            || (baseUrl.Scheme != Uri.UriSchemeHttps && !(baseUrl.Scheme == Uri.UriSchemeHttp && baseUrl.IsLoopback)))
        {
            errors.Add($"Setting Graph__BaseUrl must be an absolute https URL (http only for 127.0.0.1/localhost), e.g. {GraphOptions.DefaultBaseUrl}; got '{options.BaseUrl}'.");
        }

        switch (options.Credential?.Trim().ToLowerInvariant())
        {
            case GraphCredentialKinds.ManagedIdentity:
                break;
            case GraphCredentialKinds.ClientSecret:
                RequireTenantAndClient(options, errors);
                if (string.IsNullOrWhiteSpace(options.ClientSecret))
                {
                    errors.Add("Setting Graph__ClientSecret is required when Graph__Credential is clientsecret.");
                }

                break;
            case GraphCredentialKinds.Certificate:
                RequireTenantAndClient(options, errors);
                if (string.IsNullOrWhiteSpace(options.CertificatePath))
                {
                    errors.Add("Setting Graph__CertificatePath is required when Graph__Credential is certificate.");
                }
                else if (!File.Exists(options.CertificatePath))
                {
                    errors.Add($"Setting Graph__CertificatePath points to '{options.CertificatePath}', which does not exist.");
                }

                break;
            case GraphCredentialKinds.Token:
                if (string.IsNullOrWhiteSpace(options.StaticToken))
                {
                    errors.Add("Setting Graph__StaticToken is required when Graph__Credential is token.");
                }

                break;
            default:
                errors.Add($"Setting Graph__Credential must be managedidentity, clientsecret, certificate or token; got '{options.Credential}'.");
                break;
        }

        foreach (var property in options.ExtraUserProperties())
        {
            if (!PropertyName().IsMatch(property))
            {
                errors.Add($"Setting Graph__UserSelect holds '{property}', which is not a Graph property name (letters, digits and '_').");
            }
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            errors.Add("Setting Graph__MaxRetries must be between 0 and 10.");
        }

        if (options.RetryTimeLimitSeconds is < 1 or > 3600)
        {
            errors.Add("Setting Graph__RetryTimeLimitSeconds must be between 1 and 3600.");
        }

        if (options.TimeoutSeconds is < 1 or > 600)
        {
            errors.Add("Setting Graph__TimeoutSeconds must be between 1 and 600.");
        }

        if (options.MembersPageSize is < 1 or > 999)
        {
            errors.Add("Setting Graph__MembersPageSize must be between 1 and 999.");
        }

        return errors;
    }

    private static void RequireTenantAndClient(GraphOptions options, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(options.TenantId))
        {
            errors.Add($"Setting Graph__TenantId is required when Graph__Credential is {options.Credential}.");
        }

        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            errors.Add($"Setting Graph__ClientId is required when Graph__Credential is {options.Credential}.");
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]*$")]
    private static partial Regex PropertyName();
}
