using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using GenesysScimEmulator.State;

namespace GenesysScimEmulator.Endpoints;

/// <summary><c>POST /oauth/token</c>: OAuth 2 client credentials as login.{region}/oauth/token serves it:
/// <c>Authorization: Basic base64(id:secret)</c> and form <c>grant_type=client_credentials</c>.</summary>
public static class TokenEndpoint
{
    public const string Path = "/oauth/token";

    public static void MapTokenEndpoint(this IEndpointRouteBuilder app) => app.MapPost(Path, (HttpContext context, EmulatorState state) => IssueAsync(context, state, context.RequestAborted));

    private static async Task<IResult> IssueAsync(HttpContext context, EmulatorState state, CancellationToken cancellationToken = default)
    {
        var options = state.Settings.Current;
        if (!TryReadBasic(context.Request.Headers.Authorization.ToString(), out var clientId, out var clientSecret))
        {
            return OAuthError(401, "invalid_client", "Client authentication is required: Authorization: Basic base64(clientId:clientSecret).");
        }

        if (!Same(clientId, options.ClientId) || !Same(clientSecret, options.ClientSecret))
        {
            return OAuthError(401, "invalid_client", "Client authentication failed.");
        }

        if (!context.Request.HasFormContentType)
        {
            return OAuthError(400, "invalid_request", "Send a form body (application/x-www-form-urlencoded) with grant_type=client_credentials.");
        }

        var form = await context.Request.ReadFormAsync(cancellationToken);
        var grantType = form["grant_type"].ToString();
        if (grantType.Length == 0)
        {
            return OAuthError(400, "invalid_request", "grant_type is required.");
        }

        if (grantType != "client_credentials")
        {
            return OAuthError(400, "unsupported_grant_type", $"grant_type '{grantType}' is not supported; use client_credentials.");
        }

        var (accessToken, expiresIn) = state.Tokens.Issue();
        context.Response.Headers.CacheControl = "no-store";
        var body = new JsonObject { ["access_token"] = accessToken, ["token_type"] = "bearer", ["expires_in"] = expiresIn };
        return Results.Content(body.ToJsonString(), "application/json; charset=utf-8", Encoding.UTF8);
    }

    private static bool TryReadBasic(string header, out string clientId, out string clientSecret)
    {
        clientId = clientSecret = "";
        const string Scheme = "Basic ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[Scheme.Length..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return false;
            }

            clientId = decoded[..colon];
            clientSecret = decoded[(colon + 1)..];
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool Same(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));

    private static IResult OAuthError(int status, string error, string description)
    {
        var body = new JsonObject { ["error"] = error, ["description"] = description, ["error_description"] = description };
        return Results.Content(body.ToJsonString(), "application/json; charset=utf-8", Encoding.UTF8, status);
    }
}
