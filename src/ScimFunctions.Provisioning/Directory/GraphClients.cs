using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Identity;
using Microsoft.Graph;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>Builds the one <see cref="GraphServiceClient"/> a host needs, without a DI container (the CLI
/// calls this directly; <see cref="DirectoryRegistration"/> calls it for the Functions app).</summary>
public static class GraphClients
{
    /// <summary>Creates a Graph client for <paramref name="options"/>. The HttpClient is built through
    /// <see cref="GraphClientFactory"/>, so the SDK's retry (429/503/504 with Retry-After), redirect and
    /// telemetry middleware stay in the pipeline even with a custom final handler.</summary>
    /// <param name="finalHandler">The innermost handler; tests may pass one. Default: a pooled socket handler.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Settings are invalid; the message names each.</exception>
    public static GraphServiceClient Create(GraphOptions options, HttpMessageHandler? finalHandler = null)
    {
        GraphOptionsValidator.ThrowIfInvalid(options);
        var baseUrl = new Uri(options.BaseUrl.TrimEnd('/'));
        var httpClient = CreateHttpClient(options, finalHandler);
        return new GraphServiceClient(httpClient, CreateAuthenticationProvider(options, baseUrl), baseUrl.ToString().TrimEnd('/'));
    }

    /// <summary>A Graph client that sends <paramref name="token"/> to <paramref name="baseUrl"/>: the CLI's
    /// <c>--graph-url</c> / <c>--graph-token</c>, and tests against the local Graph double.</summary>
    public static GraphServiceClient CreateWithToken(string baseUrl, string token, HttpMessageHandler? finalHandler = null) =>
        Create(new GraphOptions { BaseUrl = baseUrl, Credential = GraphCredentialKinds.Token, StaticToken = token }, finalHandler);

    internal static HttpClient CreateHttpClient(GraphOptions options, HttpMessageHandler? finalHandler)
    {
        var handlers = GraphClientFactory.CreateDefaultHandlers();
        // The SDK's retry handler is the only layer that retries Graph calls: it reads Retry-After, and a
        // second resilience layer on top would multiply attempts. Its budget is capped so one call cannot
        // outlive a Service Bus message lock.
        var retry = new RetryHandler(new RetryHandlerOption
        {
            MaxRetry = options.MaxRetries,
            RetriesTimeLimit = TimeSpan.FromSeconds(options.RetryTimeLimitSeconds),
        });
        var index = handlers.ToList().FindIndex(h => h is RetryHandler);
        if (index >= 0)
        {
            handlers[index] = retry;
        }
        else
        {
            handlers.Insert(0, retry);
        }

        var httpClient = GraphClientFactory.Create(
            handlers,
            finalHandler: finalHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        httpClient.Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        return httpClient;
    }

    internal static IAuthenticationProvider CreateAuthenticationProvider(GraphOptions options, Uri baseUrl)
    {
        var credential = options.Credential.Trim().ToLowerInvariant();
        if (credential == GraphCredentialKinds.Token)
        {
            return new BaseBearerTokenAuthenticationProvider(new StaticAccessTokenProvider(options.StaticToken!, baseUrl.Host));
        }

        // The token is for Graph; the scope follows the configured cloud (graph.microsoft.us, …).
        var scope = $"{baseUrl.Scheme}://{baseUrl.Authority}/.default";
        return new AzureIdentityAuthenticationProvider(CreateCredential(options, credential), [baseUrl.Host], observabilityOptions: null, isCaeEnabled: true, scopes: [scope]);
    }

    private static TokenCredential CreateCredential(GraphOptions options, string credential) => credential switch
    {
        GraphCredentialKinds.ClientSecret => new ClientSecretCredential(options.TenantId, options.ClientId, options.ClientSecret),
        GraphCredentialKinds.Certificate when !string.IsNullOrEmpty(options.CertificatePassword) =>
            new ClientCertificateCredential(options.TenantId, options.ClientId, X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath!, options.CertificatePassword)),
        GraphCredentialKinds.Certificate => new ClientCertificateCredential(options.TenantId, options.ClientId, options.CertificatePath),
        _ => string.IsNullOrWhiteSpace(options.ClientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ClientId)),
    };
}

/// <summary>Hands out a token obtained elsewhere, to the configured Graph host only. Unlike
/// <c>AzureIdentityAccessTokenProvider</c> it is not limited to Microsoft's Graph hosts, so the same code
/// signs requests to a local Graph double.</summary>
internal sealed class StaticAccessTokenProvider(string token, string host) : IAccessTokenProvider
{
    public AllowedHostsValidator AllowedHostsValidator { get; } = new([host]);

    public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(AllowedHostsValidator.IsUrlHostValid(uri) ? token : string.Empty);
}
