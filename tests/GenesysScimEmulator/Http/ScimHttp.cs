using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GenesysScimEmulator.Scim;
using GenesysScimEmulator.State;
using Microsoft.Net.Http.Headers;

namespace GenesysScimEmulator.Http;

/// <summary>HTTP shapes shared by the endpoints: correlation id, SCIM JSON, the two error bodies,
/// ETags, request bodies.</summary>
public static class ScimHttp
{
    public const string CorrelationHeader = "ININ-Correlation-Id";
    public const string ScimContentType = "application/scim+json; charset=utf-8";
    public const string V2Base = "/api/v2/scim/v2";
    public const string LegacyBase = "/api/v2/scim";

    private const string CorrelationItem = "emulator.correlation";

    /// <summary>Writes quotes inside strings as \" (meta.version "\"42\""), not \u0022.</summary>
    public static readonly JsonSerializerOptions Output = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string CorrelationId(this HttpContext context)
    {
        if (context.Items[CorrelationItem] is not string id)
        {
            id = Guid.NewGuid().ToString();
            context.Items[CorrelationItem] = id;
        }

        return id;
    }

    public static ResourceUrls Urls(this HttpContext context, bool legacy) =>
        new($"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{(legacy ? LegacyBase : V2Base)}");

    public static IResult Json(JsonNode body, int status = StatusCodes.Status200OK) =>
        Results.Content(body.ToJsonString(Output), ScimContentType, Encoding.UTF8, status);

    /// <summary>A resource with its ETag header (the quoted version, equal to meta.version by default).</summary>
    public static IResult Resource(this HttpContext context, StoredResource resource, JsonObject? body = null, int status = StatusCodes.Status200OK)
    {
        context.Response.Headers.ETag = ResourceMeta.ETag(resource.Version);
        return Json(body ?? resource.Body, status);
    }

    /// <summary>304 when If-None-Match names the current version.</summary>
    public static bool NotModified(this HttpContext context, long version)
    {
        var header = context.Request.Headers.IfNoneMatch.ToString();
        return header.Length > 0 && ETags.Matches(header, version, out _);
    }

    public static IResult NotModifiedResult(this HttpContext context, long version)
    {
        context.Response.Headers.ETag = ResourceMeta.ETag(version);
        return Results.StatusCode(StatusCodes.Status304NotModified);
    }

    public static string? IfMatch(this HttpContext context) =>
        context.Request.Headers.IfMatch.Count == 0 ? null : context.Request.Headers.IfMatch.ToString();

    public static Task WriteScimError(this HttpContext context, int status, string? scimType, string detail)
    {
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimUrns.Error),
            ["status"] = status.ToString(CultureInfo.InvariantCulture),
        };
        if (scimType is not null)
        {
            body["scimType"] = scimType;
        }

        body["detail"] = detail;
        return Write(context, status, body, ScimContentType);
    }

    /// <summary>Genesys ErrorBody: numeric status, code, message, contextId (the correlation id).</summary>
    public static Task WritePlatformError(this HttpContext context, int status, string code, string message, Action<JsonObject>? extra = null)
    {
        var body = new JsonObject
        {
            ["message"] = message,
            ["code"] = code,
            ["status"] = status,
            ["contextId"] = context.CorrelationId(),
            ["details"] = new JsonArray(),
            ["errors"] = new JsonArray(),
        };
        extra?.Invoke(body);
        return Write(context, status, body, "application/json; charset=utf-8");
    }

    /// <summary>429 as Genesys sends it: Retry-After in seconds and code too.many.requests.retry.after.</summary>
    public static Task WriteTooManyRequests(this HttpContext context, int retryAfterSeconds, int? limit, string code = "too.many.requests.retry.after", string? message = null)
    {
        var seconds = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers.RetryAfter = seconds;
        return context.WritePlatformError(429, code, message ?? $"Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds", body =>
        {
            body["messageWithParams"] = "Rate limit exceeded the maximum. Retry the request in [{retryAfter}] seconds";
            body["messageParams"] = new JsonObject { ["retryAfter"] = seconds };
            if (limit is not null)
            {
                body["limit"] = new JsonObject { ["key"] = "token.rate.per.minute", ["namespace"] = "platform.api", ["value"] = limit };
            }
        });
    }

    /// <summary>Reads a JSON object body: 415 for a non-JSON content type, 413 over request.bytes.max,
    /// 400 invalidSyntax for malformed JSON.</summary>
    public static async Task<JsonObject> ReadJsonObject(this HttpContext context, EmulatorOptions options, CancellationToken cancellationToken = default)
    {
        var request = context.Request;
        if (request.ContentType is { } contentType
            && !(MediaTypeHeaderValue.TryParse(contentType, out var media)
                && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                    || media.MediaType.Equals("application/scim+json", StringComparison.OrdinalIgnoreCase))))
        {
            throw new PlatformException(415, "unsupported.media.type", $"Content type '{contentType}' is not supported; send application/json or application/scim+json.");
        }

        if (request.ContentLength > options.MaxRequestBytes)
        {
            throw TooLarge(options);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > options.MaxRequestBytes)
            {
                throw TooLarge(options);
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            throw ScimException.InvalidSyntax("The request has no body; a JSON object is required.");
        }

        try
        {
            return JsonNode.Parse(buffer.ToArray()) as JsonObject
                ?? throw ScimException.InvalidSyntax("The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw ScimException.InvalidSyntax($"The request body is not valid JSON: {e.Message}");
        }
    }

    private static PlatformException TooLarge(EmulatorOptions options) =>
        new(413, "request.entity.too.large", $"Maximum bytes: {options.MaxRequestBytes.ToString(CultureInfo.InvariantCulture)}");

    private static async Task Write(HttpContext context, int status, JsonObject body, string contentType)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body.ToJsonString(Output), context.RequestAborted);
    }
}

/// <summary>ETag comparison for If-Match / If-None-Match: versions in double quotes ("42"), lists, *.</summary>
public static class ETags
{
    public static bool Matches(string header, long version, out string? problem)
    {
        problem = null;
        foreach (var raw in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw == "*")
            {
                return true;
            }

            var tag = raw.StartsWith("W/", StringComparison.Ordinal) ? raw[2..] : raw;
            if (tag.Length < 3 || tag[0] != '"' || tag[^1] != '"')
            {
                problem = $"'{raw}' is not a version in double quotes (e.g. \"{version.ToString(CultureInfo.InvariantCulture)}\").";
                continue;
            }

            if (long.TryParse(tag[1..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var given) && given == version)
            {
                return true;
            }
        }

        return false;
    }
}
