using GenesysScimEmulator.Http;
using GenesysScimEmulator.Scim;
using GenesysScimEmulator.State;

namespace GenesysScimEmulator.Endpoints;

/// <summary>/users: list, get, create, replace, patch, delete (soft).</summary>
public static class UserEndpoints
{
    private const string Kind = "users";

    /// <summary>Secondary lookups that make a page over 25 expensive (reference §5.3).</summary>
    private static readonly (string? Extension, string Attribute)[] ExpensiveAttributes =
        [(null, Attr.ExternalId), (null, Attr.Roles), (ScimUrns.Genesys, Attr.RoutingSkills), (ScimUrns.Genesys, Attr.RoutingLanguages)];

    public static void MapUserEndpoints(this IEndpointRouteBuilder scim, bool legacy)
    {
        scim.MapGet("/users", (HttpContext context, EmulatorState state) => List(context, state, legacy));
        scim.MapGet("/users/{id}", (HttpContext context, EmulatorState state, string id) => Get(context, state, id, legacy));
        scim.MapPost("/users", (HttpContext context, EmulatorState state) => CreateAsync(context, state, legacy, context.RequestAborted));
        scim.MapPut("/users/{id}", (HttpContext context, EmulatorState state, string id) => ReplaceAsync(context, state, id, legacy, context.RequestAborted));
        scim.MapPatch("/users/{id}", (HttpContext context, EmulatorState state, string id) => PatchAsync(context, state, id, legacy, context.RequestAborted));
        scim.MapDelete("/users/{id}", (HttpContext context, EmulatorState state, string id) => Delete(context, state, id));
    }

    private static IResult List(HttpContext context, EmulatorState state, bool legacy)
    {
        var options = state.Settings.Current;
        var query = context.Request.Query;
        var filter = FilterParser.ParseListFilter(query["filter"]);
        var (startIndex, count) = ScimQuery.Paging(query);
        var selection = AttributeSelection.ForUsers(query["attributes"], query["excludedAttributes"]);
        if (options.LargePageThrottling && count > options.LargePageThreshold
            && ExpensiveAttributes.Any(a => selection.Returns(a.Extension, a.Attribute)))
        {
            throw new PlatformException(429, "too.many.requests",
                $"A page size of {count} with externalId, roles, routingSkills or routingLanguages exceeds internal resource limits; request at most {options.LargePageThreshold} or drop them with attributes/excludedAttributes.",
                retryAfterSeconds: 1);
        }

        var page = state.Store.ListUsers(filter, startIndex, count, context.Urls(legacy));
        return ScimHttp.Json(ScimQuery.ListResponse(page.TotalResults, startIndex, page.Resources.Select(selection.Apply)));
    }

    private static IResult Get(HttpContext context, EmulatorState state, string id, bool legacy)
    {
        var query = context.Request.Query;
        var selection = AttributeSelection.ForUsers(query["attributes"], query["excludedAttributes"]);
        var user = state.Store.GetUser(id, context.Urls(legacy)) ?? throw ScimException.NotFound($"User '{id}' not found.");
        return context.NotModified(user.Version)
            ? context.NotModifiedResult(user.Version)
            : context.Resource(user, selection.Apply(user.Body));
    }

    private static async Task<IResult> CreateAsync(HttpContext context, EmulatorState state, bool legacy, CancellationToken cancellationToken = default)
    {
        var options = state.Settings.Current;
        var body = await context.ReadJsonObject(options, cancellationToken);
        var user = state.Store.CreateUser(body, context.Urls(legacy));
        context.Response.Headers.Location = context.Urls(legacy).User(user.Body[Attr.Id]!.GetValue<string>());
        return context.Resource(user, status: options.CreatedStatus);
    }

    private static async Task<IResult> ReplaceAsync(HttpContext context, EmulatorState state, string id, bool legacy, CancellationToken cancellationToken = default)
    {
        var body = await context.ReadJsonObject(state.Settings.Current, cancellationToken);
        var ifMatch = MeetConcurrentEdit(context, state, id);
        return context.Resource(state.Store.ReplaceUser(id, body, ifMatch, context.Urls(legacy)));
    }

    private static async Task<IResult> PatchAsync(HttpContext context, EmulatorState state, string id, bool legacy, CancellationToken cancellationToken = default)
    {
        var options = state.Settings.Current;
        var body = await context.ReadJsonObject(options, cancellationToken);
        var operations = PatchApplier.ParseRequest(body, options.CaseInsensitivePatchOp);
        var ifMatch = MeetConcurrentEdit(context, state, id);
        return context.Resource(state.Store.PatchUser(id, operations, ifMatch, context.Urls(legacy)));
    }

    private static IResult Delete(HttpContext context, EmulatorState state, string id)
    {
        var ifMatch = MeetConcurrentEdit(context, state, id);
        state.Store.DeleteUser(id, ifMatch);
        return Results.StatusCode(state.Settings.Current.DeletedStatus);
    }

    /// <summary>The concurrent-edit fault: an administrator changes the user just before this conditional
    /// write is checked, so its If-Match is stale.</summary>
    private static string? MeetConcurrentEdit(HttpContext context, EmulatorState state, string id)
    {
        var ifMatch = context.IfMatch();
        if (ifMatch is not null && state.Store.IsUser(id) && state.Faults.ConcurrentEdit(context.Request.Method, Kind))
        {
            state.Store.EditUserConcurrently(id);
        }

        return ifMatch;
    }
}
