using System.Text.Json.Nodes;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Why the target's ServiceProviderConfig decided nothing, or decided only part.</summary>
public enum ScimConfigSource
{
    /// <summary>Read and every capability the client uses was stated.</summary>
    Document,

    /// <summary>Read, but some capabilities were missing or of the wrong type: those took their defaults.</summary>
    PartlyDefaulted,

    /// <summary>Absent (a 4xx) or not a JSON object: every capability took its default.</summary>
    Defaults,
}

/// <summary>
/// What an RFC 7644 target says it supports (RFC 7643 §5, its <c>/ServiceProviderConfig</c>), read once per process
/// by the scim profile, and what the client makes of it:
/// <list type="bullet">
/// <item><c>etag.supported</c> true: versions are kept and writes carry If-Match, reads If-None-Match. False: no
/// conditional headers (a precondition the server does not promise to honour would be a check that checks nothing);
/// versions stay null and the engine re-reads before it decides. Unknown: off until a response carries an ETag header.</item>
/// <item><c>patch.supported</c> false: the target is refused, every call answers Permanent naming it. The engine
/// writes only the attributes it owns and changes group members one by one; with PUT alone it would replace whole
/// users (clearing attributes others own) and whole member lists, racing other writers. Unknown: assumed supported
/// (RFC servers nearly all support it; one that does not refuses the PATCH itself, and that error names it).</item>
/// <item><c>filter.supported</c> false: refused too: without <c>externalId eq</c> / <c>userName eq</c> the engine cannot
/// find a user before creating one, and would duplicate. <c>filter.maxResults</c>: list pages ask for at most that
/// many. Unknown: assumed supported, pages of 100.</item>
/// <item><c>bulk</c>: never used, whatever it says (each write is its own request, so one failure never hides or rolls
/// back another); logged for the record.</item>
/// </list>
/// </summary>
public sealed record ScimServiceProviderConfig(
    ScimConfigSource Source,
    bool? ETag,
    bool? Patch,
    bool? Filter,
    int? FilterMaxResults,
    bool? Bulk,
    IReadOnlyList<string> Unusable)
{
    /// <summary>Nothing read: every capability at its default.</summary>
    public static ScimServiceProviderConfig Default(string reason) => new(ScimConfigSource.Defaults, null, null, null, null, null, [reason]);

    public bool ETagSupported => ETag == true;

    public bool PatchSupported => Patch != false;

    public bool FilterSupported => Filter != false;

    /// <summary>Why the connector cannot work with this target, naming what the document said; null when it can.</summary>
    public string? Refusal =>
        (PatchSupported, FilterSupported) switch
        {
            (false, _) => "The SCIM target's ServiceProviderConfig says patch.supported is false. The connector changes only the attributes it owns and "
                + "group members one by one, which needs PATCH; PUT alone would overwrite whole users and member lists. Use a target (or a setting of it) with PATCH.",
            (_, false) => "The SCIM target's ServiceProviderConfig says filter.supported is false. The connector finds a user by externalId or userName "
                + "before creating one, which needs filters; without them it would create duplicates. Use a target (or a setting of it) with filters.",
            _ => null,
        };

    /// <summary>Reads the capabilities the client uses; a missing or wrongly typed one is listed in <see cref="Unusable"/>
    /// and takes its default. Never throws.</summary>
    public static ScimServiceProviderConfig Parse(JsonObject document)
    {
        var unusable = new List<string>();
        var patch = Supported(document, "patch", unusable);
        var etag = Supported(document, "etag", unusable);
        var filter = Supported(document, "filter", unusable);

        // Read for the log only: bulk is never used, so an unreadable one changes nothing.
        var bulk = Supported(document, "bulk", []);
        int? maxResults = null;
        if (document["filter"] is JsonObject filterObject && filterObject["maxResults"] is { } node)
        {
            if (node is JsonValue value && value.TryGetValue<int>(out var n) && n > 0)
            {
                maxResults = n;
            }
            else
            {
                unusable.Add("filter.maxResults");
            }
        }

        var source = unusable.Count == 0 ? ScimConfigSource.Document : ScimConfigSource.PartlyDefaulted;
        return new ScimServiceProviderConfig(source, etag, patch, filter, maxResults, bulk, unusable);
    }

    private static bool? Supported(JsonObject document, string capability, List<string> unusable)
    {
        if (document[capability] is JsonObject section && section["supported"] is JsonValue value && value.TryGetValue<bool>(out var supported))
        {
            return supported;
        }

        unusable.Add(capability + ".supported");
        return null;
    }
}
