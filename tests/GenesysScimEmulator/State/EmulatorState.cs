using System.Text.Json;
using System.Text.Json.Nodes;
using GenesysScimEmulator.Scim;

namespace GenesysScimEmulator.State;

/// <summary>Everything the emulator holds, in one place for the admin API and for tests that run it
/// in-process: settings, users and groups, tokens, counters, faults.</summary>
public sealed class EmulatorState(
    EmulatorSettings settings,
    EmulatorStore store,
    TokenStore tokens,
    RequestCounters counters,
    FaultInjector faults,
    TimeProvider time)
{
    /// <summary>Base used for <c>meta.location</c> of resources made outside a request (seed, admin).</summary>
    public static readonly ResourceUrls DefaultUrls = new("http://127.0.0.1/api/v2/scim/v2");

    public EmulatorSettings Settings { get; } = settings;

    public EmulatorStore Store { get; } = store;

    public TokenStore Tokens { get; } = tokens;

    public RequestCounters Counters { get; } = counters;

    public FaultInjector Faults { get; } = faults;

    public TimeProvider Time { get; } = time;

    /// <summary>When the emulator started (lastModified of the ServiceProviderConfig).</summary>
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    /// <summary>Back to the state at start: configured settings, seed file contents, no faults, zero
    /// counters, fresh rate windows. Issued tokens stay valid.</summary>
    public void Reset()
    {
        Settings.Reset();
        Store.Clear();
        Faults.Clear();
        Counters.Reset();
        Tokens.ResetRateWindows();
        if (Settings.Current.SeedPath is { Length: > 0 } path)
        {
            SeedFromFile(path);
        }
    }

    public SeedResult SeedFromFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Seed file '{Path.GetFullPath(path)}' (Emulator__SeedPath / --seed) does not exist.");
        }

        JsonObject document;
        try
        {
            document = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidOperationException($"Seed file '{path}' must hold a JSON object {{ \"groups\": [...], \"users\": [...] }}.");
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"Seed file '{path}' is not valid JSON: {e.Message}", e);
        }

        try
        {
            return Seed(document);
        }
        catch (ScimException e)
        {
            throw new InvalidOperationException($"Seed file '{path}': {e.Message}", e);
        }
    }

    /// <summary>Adds <c>{ "users": [ScimV2CreateUser…], "groups": [{ "displayName": …, "members": … }] }</c>.
    /// Users come first so groups can list them; a user or group may carry a fixed "id", and group members
    /// may be given by user id or userName. Users are validated as a SCIM POST would be.</summary>
    public SeedResult Seed(JsonObject document)
    {
        var users = new List<SeededResource>();
        var groups = new List<SeededResource>();
        var index = 0;
        foreach (var node in document.GetArray("users", "users") ?? [])
        {
            var user = node as JsonObject ?? throw ScimException.InvalidValue($"users[{index}] must be an object.");
            try
            {
                var id = user.GetString(Attr.Id, "id");
                var created = Store.CreateUser(user, DefaultUrls, id);
                users.Add(new SeededResource(created.Body[Attr.Id]!.GetValue<string>(), created.Body[Attr.UserName]!.GetValue<string>()));
            }
            catch (ScimException e)
            {
                throw new ScimException(e.Status, e.ScimType, $"users[{index}]: {e.Message}");
            }

            index++;
        }

        index = 0;
        foreach (var node in document.GetArray("groups", "groups") ?? [])
        {
            var group = node as JsonObject ?? throw ScimException.InvalidValue($"groups[{index}] must be an object.");
            try
            {
                var created = Store.AddGroup(group, DefaultUrls);
                groups.Add(new SeededResource(created.Body[Attr.Id]!.GetValue<string>(), created.Body[Attr.DisplayName]!.GetValue<string>()));
            }
            catch (ScimException e)
            {
                throw new ScimException(e.Status, e.ScimType, $"groups[{index}]: {e.Message}");
            }

            index++;
        }

        return new SeedResult(users, groups);
    }
}

/// <summary>Ids of what a seed created (users: id and userName; groups: id and displayName).</summary>
public sealed record SeedResult(IReadOnlyList<SeededResource> Users, IReadOnlyList<SeededResource> Groups);

public sealed record SeededResource(string Id, string Name);
