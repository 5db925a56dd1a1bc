using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>The bearer token for SCIM calls. scim profile: the configured token. genesys profile: an OAuth
/// client-credentials token from <c>{LoginUrl}/oauth/token</c> (Basic auth), cached until shortly before
/// <c>expires_in</c> (U19) and fetched by one caller at a time.</summary>
public sealed class ScimTokenSource(IHttpClientFactory httpClientFactory, IOptions<ScimOptions> options, TimeProvider timeProvider, ILogger<ScimTokenSource> logger)
    : IDisposable
{
    /// <summary>Named HttpClient for the token endpoint (its own host and limits; not the SCIM pipeline).</summary>
    public const string LoginClientName = "ScimFunctions.ScimLogin";

    private static readonly TimeSpan MaxRefreshMargin = TimeSpan.FromSeconds(60);
    private readonly ScimOptions settings = options.Value;
    private readonly SemaphoreSlim refresh = new(1, 1);
    private CachedToken? current;

    /// <summary>True when a rejected token can be replaced by asking for a new one.</summary>
    public bool CanRefresh => settings.TargetProfile == ScimTargetProfile.Genesys;

    public void Dispose() => refresh.Dispose();

    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken = default)
    {
        if (!CanRefresh)
        {
            return settings.BearerToken ?? "";
        }

        var cached = Volatile.Read(ref current);
        if (cached is not null && timeProvider.GetUtcNow() < cached.RefreshAt)
        {
            return cached.Value;
        }

        await refresh.WaitAsync(cancellationToken);
        try
        {
            cached = Volatile.Read(ref current);
            if (cached is not null && timeProvider.GetUtcNow() < cached.RefreshAt)
            {
                return cached.Value;
            }

            cached = await RequestTokenAsync(cancellationToken);
            Volatile.Write(ref current, cached);
            return cached.Value;
        }
        finally
        {
            refresh.Release();
        }
    }

    /// <summary>The target rejected <paramref name="token"/>; forget it unless a newer one already replaced it.</summary>
    public void Invalidate(string token)
    {
        var cached = Volatile.Read(ref current);
        if (cached is not null && string.Equals(cached.Value, token, StringComparison.Ordinal))
        {
            Interlocked.CompareExchange(ref current, null, cached);
        }
    }

    private async Task<CachedToken> RequestTokenAsync(CancellationToken cancellationToken)
    {
        var endpoint = settings.TokenEndpoint ?? throw new ScimTokenException("Setting Scim__LoginUrl is missing or invalid.", isTransient: false, status: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.ClientId}:{settings.ClientSecret}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ScimMediaTypes.Json));

        var started = timeProvider.GetUtcNow();
        HttpResponseMessage response;
        try
        {
            response = await httpClientFactory.CreateClient(LoginClientName).SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            ScimLog.TokenRequestFailed(logger, endpoint.Host, 0, ex);
            throw new ScimTokenException($"The token endpoint {endpoint.Host} could not be reached.", isTransient: true, status: null, ex);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                ScimLog.TokenRequestFailed(logger, endpoint.Host, status, null);
                var transient = status is 408 or 429 or >= 500;
                throw new ScimTokenException(
                    $"The token endpoint {endpoint.Host} answered {status}{(transient ? "" : ": check Scim__ClientId, Scim__ClientSecret and the OAuth client's grant type")}.",
                    transient,
                    status);
            }

            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
                var root = document.RootElement;
                var token = root.TryGetProperty("access_token", out var accessToken) && accessToken.ValueKind == JsonValueKind.String
                    ? accessToken.GetString()
                    : null;
                if (string.IsNullOrEmpty(token))
                {
                    throw new ScimTokenException($"The token endpoint {endpoint.Host} returned no access_token.", isTransient: false, status);
                }

                var lifetime = root.TryGetProperty("expires_in", out var expiresIn) && expiresIn.TryGetDouble(out var seconds) && seconds > 0
                    ? TimeSpan.FromSeconds(seconds)
                    : TimeSpan.FromMinutes(5);
                var margin = TimeSpan.FromTicks(Math.Min(MaxRefreshMargin.Ticks, lifetime.Ticks / 10));
                ScimLog.TokenAcquired(logger, endpoint.Host, lifetime);
                return new CachedToken(token, started + lifetime - margin);
            }
            catch (JsonException ex)
            {
                throw new ScimTokenException($"The token endpoint {endpoint.Host} returned a body that is not JSON.", isTransient: false, status, ex);
            }
        }
    }

    private sealed record CachedToken(string Value, DateTimeOffset RefreshAt);
}

/// <summary>No token could be obtained. Never carries the secret or the token.</summary>
public sealed class ScimTokenException(string message, bool isTransient, int? status, Exception? innerException = null)
    : Exception(message, innerException)
{
    public bool IsTransient { get; } = isTransient;

    public int? Status { get; } = status;
}
