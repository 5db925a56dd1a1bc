using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Reads error bodies in both shapes (U18) and turns an HTTP status into a <see cref="ScimOutcome"/> (U3, U5).
/// A target's detail may echo what was sent (a userName, an e-mail, a display name, a phone number); it goes into
/// Warning logs and dead-letter descriptions, so echoed values are cut out of it: quoted text, e-mail addresses and
/// long digit runs become "…". The message's own words, scimType, the target's error code and the correlation id stay.</summary>
internal static partial class ScimErrors
{
    private const int MaxDetailLength = 500;

    /// <summary>Parses a SCIM error (<c>status</c> a string, <c>scimType</c>, <c>detail</c>) or a Genesys
    /// ErrorBody (<c>status</c> a number, <c>code</c>, <c>message</c>, <c>contextId</c>). The HTTP status wins
    /// over the body's; the correlation id comes from the header, else the body's contextId.</summary>
    public static ScimError Parse(int httpStatus, string? body, string? correlationId, string? reasonPhrase = null)
    {
        string? scimType = null;
        string? detail = null;
        string? code = null;
        if (!string.IsNullOrWhiteSpace(body))
        {
            try
            {
                if (JsonNode.Parse(body) is JsonObject json)
                {
                    scimType = Text(json[ScimAttributes.ScimType]);
                    detail = Text(json[ScimAttributes.Detail]) ?? Text(json["message"]);
                    code = Text(json["code"]);
                    correlationId ??= Text(json["contextId"]);
                }
                else
                {
                    detail = body;
                }
            }
            catch (JsonException)
            {
                detail = body;
            }
        }

        if (detail is not null)
        {
            // Bounded before the expressions run: an HTML error page can be long.
            detail = Redact(detail.Length > 4 * MaxDetailLength ? detail[..(4 * MaxDetailLength)] : detail);
        }

        if (code is not null)
        {
            detail = detail is null ? code : $"{detail} ({code})";
        }

        detail ??= string.IsNullOrWhiteSpace(reasonPhrase) ? $"HTTP {httpStatus}" : reasonPhrase;
        if (detail.Length > MaxDetailLength)
        {
            detail = detail[..MaxDetailLength];
        }

        return new ScimError(httpStatus, string.IsNullOrWhiteSpace(scimType) ? null : scimType, detail, correlationId);
    }

    /// <summary>What a non-success status means for this request.</summary>
    public static ScimOutcome Classify(ScimTargetProfile profile, HttpMethod method, int status, string? scimType)
    {
        var isCreate = method == HttpMethod.Post;
        return status switch
        {
            (int)HttpStatusCode.NotModified => ScimOutcome.NotModified,
            (int)HttpStatusCode.BadRequest when string.Equals(scimType, ScimErrorTypes.InvalidVersion, StringComparison.OrdinalIgnoreCase) => ScimOutcome.VersionConflict,
            (int)HttpStatusCode.BadRequest => ScimOutcome.InvalidValue,
            (int)HttpStatusCode.Unauthorized or (int)HttpStatusCode.Forbidden => ScimOutcome.Unauthorized,
            (int)HttpStatusCode.NotFound => ScimOutcome.NotFound,
            (int)HttpStatusCode.Conflict when isCreate => ScimOutcome.Uniqueness,

            // Genesys answers a stale If-Match on PUT/PATCH/DELETE with 409 "Version does not match" (U5).
            (int)HttpStatusCode.Conflict when profile == ScimTargetProfile.Genesys => ScimOutcome.VersionConflict,

            // RFC 7644: 409 on a modify is a uniqueness clash (e.g. a changed userName); 412 is the version conflict.
            (int)HttpStatusCode.Conflict => ScimOutcome.Uniqueness,
            (int)HttpStatusCode.PreconditionFailed => ScimOutcome.VersionConflict,
            (int)HttpStatusCode.TooManyRequests => ScimOutcome.Throttled,
            (int)HttpStatusCode.RequestTimeout => ScimOutcome.Transient,
            >= 500 and not (int)HttpStatusCode.NotImplemented and not (int)HttpStatusCode.HttpVersionNotSupported => ScimOutcome.Transient,
            _ => ScimOutcome.Permanent,
        };
    }

    /// <summary>The detail without the values it echoes.</summary>
    internal static string Redact(string detail)
    {
        var redacted = Quoted().Replace(detail, "'…'");
        redacted = Email().Replace(redacted, "…@…");
        return DigitRun().Replace(redacted, "…");
    }

    [GeneratedRegex("""'[^']*'|"[^"]*"|\u201C[^\u201D]*\u201D|`[^`]*`""", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Quoted();

    [GeneratedRegex("""[^\s@'"<>(),;:]+@[^\s@'"<>(),;:]+""", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Email();

    // Phone numbers and long numeric ids; not the digits inside a GUID or a short count ("in [3] seconds").
    [GeneratedRegex("""(?<![\w-])\+?\d[\d\s().-]{5,}\d(?![\w-])""", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex DigitRun();

    private static string? Text(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value => value.ToJsonString(),
        _ => null,
    };
}
