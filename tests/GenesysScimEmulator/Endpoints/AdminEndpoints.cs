using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using GenesysScimEmulator.Http;
using GenesysScimEmulator.State;

namespace GenesysScimEmulator.Endpoints;

/// <summary>The control surface under <c>/_emulator</c>: not SCIM, no token, loopback callers only.</summary>
public static class AdminEndpoints
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
    };

    public static void MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup(RequestKind.AdminEndpointsPrefix).AddEndpointFilter(async (context, next) =>
        {
            var remote = context.HttpContext.Connection.RemoteIpAddress;
            if (remote is not null && !IPAddress.IsLoopback(remote))
            {
                return Results.Json(new { error = "The emulator admin API answers loopback callers only." }, Json, statusCode: 403);
            }

            try
            {
                return await next(context);
            }
            catch (Exception e) when (e is ArgumentException or JsonException)
            {
                return Results.Json(new { error = e.Message }, Json, statusCode: 400);
            }
        });

        admin.MapGet("/state", (HttpContext context, EmulatorState state) =>
        {
            var snapshot = state.Store.Snapshot(context.Urls(legacy: false));
            snapshot["activeTokens"] = state.Tokens.ActiveCount;
            return ScimHttp.Json(snapshot);
        });

        admin.MapPost("/reset", (EmulatorState state) =>
        {
            state.Reset();
            return Results.NoContent();
        });

        admin.MapGet("/counters", (EmulatorState state) => Results.Json(state.Counters.Snapshot(), Json));
        admin.MapDelete("/counters", (EmulatorState state) =>
        {
            state.Counters.Reset();
            return Results.NoContent();
        });

        admin.MapGet("/faults", (EmulatorState state) => Results.Json(state.Faults.Current, Json));
        admin.MapPut("/faults", async (HttpContext context, EmulatorState state) =>
        {
            state.Faults.Set(await ReadAsync<FaultSettings>(context, context.RequestAborted));
            return Results.Json(state.Faults.Current, Json);
        });
        admin.MapDelete("/faults", (EmulatorState state) =>
        {
            state.Faults.Clear();
            return Results.NoContent();
        });

        admin.MapGet("/settings", (EmulatorState state) => Results.Json(state.Settings.Current, Json));
        admin.MapPatch("/settings", async (HttpContext context, EmulatorState state) =>
        {
            var changes = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            if (changes is null)
            {
                return Results.Json(new { error = "Send a JSON object of settings to change, e.g. {\"conflictStatus\": 409}." }, Json, statusCode: 400);
            }

            var merged = JsonSerializer.SerializeToNode(state.Settings.Current, Json)!.AsObject();
            foreach (var (key, value) in changes.ToList())
            {
                var existing = merged.Select(p => p.Key).FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase));
                if (existing is null)
                {
                    return Results.Json(new { error = $"Unknown setting '{key}'." }, Json, statusCode: 400);
                }

                merged[existing] = value?.DeepClone();
            }

            state.Settings.Replace(merged.Deserialize<EmulatorOptions>(Json)!);
            return Results.Json(state.Settings.Current, Json);
        });

        admin.MapPost("/seed", async (HttpContext context, EmulatorState state) =>
        {
            var document = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            return document is null
                ? Results.Json(new { error = "Send { \"groups\": [...], \"users\": [...] }." }, Json, statusCode: 400)
                : Results.Json(state.Seed(document), Json);
        });

        admin.MapPost("/users/{id}/concurrent-edit", async (HttpContext context, EmulatorState state, string id) =>
        {
            var changes = context.Request.ContentLength is > 0
                ? await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject
                : null;
            var version = state.Store.EditUserConcurrently(id, changes);
            return Results.Json(new { id, version = Scim.ResourceMeta.ETag(version) }, Json);
        });

        admin.MapPost("/groups/{id}/concurrent-edit", (EmulatorState state, string id) =>
        {
            var version = state.Store.EditGroupConcurrently(id);
            return Results.Json(new { id, version = Scim.ResourceMeta.ETag(version) }, Json);
        });

        admin.MapPost("/tokens/expire", (EmulatorState state) => Results.Json(new { expired = state.Tokens.ExpireAll() }, Json));
    }

    private static async Task<T> ReadAsync<T>(HttpContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(context.Request.Body, Json, cancellationToken)
                ?? throw new ArgumentException("The body is empty.");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The body is not a valid {typeof(T).Name}: {e.Message}", e);
        }
    }
}
