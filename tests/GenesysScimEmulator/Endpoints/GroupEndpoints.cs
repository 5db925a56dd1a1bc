using GenesysScimEmulator.Http;
using GenesysScimEmulator.Scim;
using GenesysScimEmulator.State;

namespace GenesysScimEmulator.Endpoints;

/// <summary>/groups: list, get, replace, patch. No create and no delete (removed from Genesys in 2021).</summary>
public static class GroupEndpoints
{
    private const string Kind = "groups";

    public static void MapGroupEndpoints(this IEndpointRouteBuilder scim, bool legacy)
    {
        scim.MapGet("/groups", (HttpContext context, EmulatorState state) => List(context, state, legacy));
        scim.MapGet("/groups/{id}", (HttpContext context, EmulatorState state, string id) => Get(context, state, id, legacy));
        scim.MapPut("/groups/{id}", (HttpContext context, EmulatorState state, string id) => ReplaceAsync(context, state, id, legacy, context.RequestAborted));
        scim.MapPatch("/groups/{id}", (HttpContext context, EmulatorState state, string id) => PatchAsync(context, state, id, legacy, context.RequestAborted));
        scim.MapPost("/groups", (HttpContext context, EmulatorState state) => Removed(context, state, "GET"));
        scim.MapDelete("/groups/{id}", (HttpContext context, EmulatorState state) => Removed(context, state, "GET, PUT, PATCH"));
    }

    private static IResult List(HttpContext context, EmulatorState state, bool legacy)
    {
        var options = state.Settings.Current;
        var query = context.Request.Query;
        var filter = FilterParser.ParseListFilter(query["filter"]);
        if (filter is null && !legacy && options.RequireGroupFilterOnV2)
        {
            throw ScimException.InvalidFilter("filter is required on /api/v2/scim/v2/groups (e.g. displayName eq \"Sales\" or id eq \"…\").");
        }

        var (startIndex, count) = ScimQuery.Paging(query);
        var selection = AttributeSelection.ForGroups(query["attributes"], query["excludedAttributes"]);
        var page = state.Store.ListGroups(filter, startIndex, count, context.Urls(legacy));
        return ScimHttp.Json(ScimQuery.ListResponse(page.TotalResults, startIndex, page.Resources.Select(selection.Apply)));
    }

    private static IResult Get(HttpContext context, EmulatorState state, string id, bool legacy)
    {
        var query = context.Request.Query;
        var selection = AttributeSelection.ForGroups(query["attributes"], query["excludedAttributes"]);
        var group = state.Store.GetGroup(id, context.Urls(legacy)) ?? throw ScimException.NotFound($"Group '{id}' not found.");
        return context.NotModified(group.Version)
            ? context.NotModifiedResult(group.Version)
            : context.Resource(group, selection.Apply(group.Body));
    }

    private static async Task<IResult> ReplaceAsync(HttpContext context, EmulatorState state, string id, bool legacy, CancellationToken cancellationToken = default)
    {
        var body = await context.ReadJsonObject(state.Settings.Current, cancellationToken);
        var ifMatch = MeetConcurrentEdit(context, state, id);
        return context.Resource(state.Store.ReplaceGroup(id, body, ifMatch, context.Urls(legacy)));
    }

    private static async Task<IResult> PatchAsync(HttpContext context, EmulatorState state, string id, bool legacy, CancellationToken cancellationToken = default)
    {
        var options = state.Settings.Current;
        var body = await context.ReadJsonObject(options, cancellationToken);
        var operations = PatchApplier.ParseRequest(body, options.CaseInsensitivePatchOp);
        var ifMatch = MeetConcurrentEdit(context, state, id);
        return context.Resource(state.Store.PatchGroup(id, operations, ifMatch, context.Urls(legacy)));
    }

    private static IResult Removed(HttpContext context, EmulatorState state, string allow)
    {
        if (state.Settings.Current.RemovedGroupOperationStatus == StatusCodes.Status405MethodNotAllowed)
        {
            context.Response.Headers.Allow = allow;
            throw new PlatformException(405, "method.not.allowed", $"Groups cannot be created or deleted through SCIM; allowed here: {allow}.");
        }

        throw new PlatformException(404, "not.found", "Groups cannot be created or deleted through SCIM.");
    }

    private static string? MeetConcurrentEdit(HttpContext context, EmulatorState state, string id)
    {
        var ifMatch = context.IfMatch();
        if (ifMatch is not null && state.Store.IsGroup(id) && state.Faults.ConcurrentEdit(context.Request.Method, Kind))
        {
            state.Store.EditGroupConcurrently(id);
        }

        return ifMatch;
    }
}
