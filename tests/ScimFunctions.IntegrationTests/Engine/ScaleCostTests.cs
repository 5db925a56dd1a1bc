using System.Text.Json.Nodes;
using GenesysScimEmulator;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>What a full run costs at scale, by counters: SCIM requests per created user on an initial load
/// (the target listed once instead of a lookup per joiner) and Table requests of an unchanged re-run (the
/// mapping table read in pages, not a point read per user).</summary>
[Collection(EngineCollection.Name)]
public sealed class ScaleCostTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private EngineHarness h = null!;

    public async Task InitializeAsync()
    {
        h = await EngineHarness.StartAsync(azurite);
        h.Graph.DeltaPageSize = 500;
    }

    public async Task DisposeAsync() => await h.DisposeAsync();

    private void Users(int count)
    {
        for (var i = 0; i < count; i++)
        {
            h.AddUser($"u-{i:00000}", $"user{i:00000}@contoso.com", $"User {i:00000}", "Sales", "Agent");
        }
    }

    [Fact]
    public async Task InitialLoad_CostsOnePostPerJoiner_NotALookupAndAPost()
    {
        Users(80);

        var summary = await h.Engine.SyncAsync(dryRun: false);

        Assert.Equal(80, summary.Created);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(80, h.ScimCount("POST"));

        // One count and one page per Genesys scan (active, then inactive) against the 80 lookups they replace.
        var userRequests = h.ScimCount("GET") + h.ScimCount("POST") + h.ScimCount("PATCH") + h.ScimCount("PUT");
        Assert.True(userRequests <= 1.05 * 80, $"{userRequests} SCIM user requests for 80 created users ({h.ScimCount("GET")} GET)");
        Assert.Equal(80, h.TargetUsers().Count);
    }

    [Fact]
    public async Task InitialLoad_AdoptsAListedUserByItsAnchor_EvenUnderAnotherUserName()
    {
        Users(10);
        var seeded = h.Emulator.State.Seed(new JsonObject
        {
            ["users"] = new JsonArray(new JsonObject { ["userName"] = "renamed.before@contoso.com", ["externalId"] = "u-00003", ["displayName"] = "User 00003" }),
        }).Users.Single().Id;

        var summary = await h.Engine.SyncAsync(dryRun: false);

        Assert.Equal(0, summary.Failed);
        Assert.Equal(10, h.TargetUsers().Count);
        var mapping = await h.MappingAsync("u-00003");
        Assert.Equal(seeded, mapping.ScimId);
        Assert.Equal(MappingOrigin.Adopted, mapping.Origin);
        Assert.Equal("user00003@contoso.com", (string?)h.TargetUser(seeded)!["userName"]);
        Assert.Equal(9, h.ScimCount("POST"));
    }

    [Fact]
    public async Task InitialLoad_UserCreatedOnTheTargetAfterTheListing_IsAdoptedThroughThe409()
    {
        Users(10);
        string? seeded = null;
        var late = new SeedBeforeCreate(h.Scim, "user00004@contoso.com", () =>
            seeded = h.Emulator.State.Seed(new JsonObject
            {
                ["users"] = new JsonArray(new JsonObject { ["userName"] = "user00004@contoso.com", ["displayName"] = "User 00004" }),
            }).Users.Single().Id);
        using var engine = TestEngine.Build(late, h.Directory, h.Tables, h.Configure, h.Time, tablePrefix: h.TablePrefix);

        var summary = await engine.SyncAsync(dryRun: false);

        Assert.Equal(0, summary.Failed);
        Assert.NotNull(seeded);
        Assert.Equal(10, h.TargetUsers().Count);
        var mapping = await h.MappingAsync("u-00004");
        Assert.Equal(seeded, mapping.ScimId);
        Assert.Equal(MappingOrigin.Adopted, mapping.Origin);
    }

    [Fact]
    public async Task DeltaSweepInitialLoad_CostsOnePostPerJoiner_ThroughTheSweepsHints()
    {
        Users(100);
        var seeded = h.Emulator.State.Seed(new JsonObject
        {
            ["users"] = new JsonArray(new JsonObject { ["userName"] = "renamed.before@contoso.com", ["externalId"] = "u-00007", ["displayName"] = "User 00007" }),
        }).Users.Single().Id;

        await h.Sweep.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        var settled = await h.DrainAsync();

        Assert.All(settled, s => Assert.Equal("complete", s.Settlement));
        Assert.Equal(100, h.TargetUsers().Count);
        Assert.Equal(seeded, (await h.MappingAsync("u-00007")).ScimId);
        Assert.Equal(99, h.ScimCount("POST"));

        // The sweep's count and one page per Genesys scan, one POST per created user, and one GET by id for the
        // user the listing matched on its anchor (an adoption, not a creation).
        Assert.Equal(4, h.ScimCount("GET"));
        var perCreated = (h.ScimCount("GET") - 1 + h.ScimCount("POST")) / 99.0;
        Assert.True(perCreated <= 1.05, $"{perCreated:0.000} SCIM requests per created user");
    }

    [Fact]
    public async Task UnchangedReRun_ReadsTheMappingTableInPages_NotOneRowPerUser()
    {
        Users(1_100);
        var first = await h.Engine.SyncAsync(dryRun: false);
        Assert.Equal(1_100, first.Created);
        h.ResetCounters();

        var second = await h.Engine.SyncAsync(dryRun: false);

        Assert.Equal(1_100, second.Unchanged);
        Assert.Equal(0, h.TableWrites.Writes);
        Assert.Equal(0, h.ScimRequests);

        // 1,100 rows are two pages of 1,000. The user phase scans them once; the group phase once more for its
        // member index; then a cursor read per phase and the (empty) group table.
        var pages = (1_100 + 999) / 1_000;
        Assert.True(h.TableWrites.Requests <= 2 * pages + 4, $"{h.TableWrites.Requests} Table requests for an unchanged run over 1,100 rows");
    }

    /// <summary>A SCIM client that puts a user on the target just before one create is sent: the listing came
    /// first, so only the create's 409 can find it.</summary>
    private sealed class SeedBeforeCreate(IScimClient inner, string userName, Action seed) : IScimClient
    {
        public ScimTargetCapabilities Capabilities => inner.Capabilities;

        public ScimRequestCounts Counts => inner.Counts;

        public Task<ScimResult<ScimResource>> CreateUserAsync(JsonObject user, CancellationToken cancellationToken = default)
        {
            if ((string?)user["userName"] == userName)
            {
                seed();
            }

            return inner.CreateUserAsync(user, cancellationToken);
        }

        public Task<ScimResult<ScimResource>> GetUserAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default) => inner.GetUserAsync(id, ifNoneMatch, cancellationToken);

        public Task<ScimResult<ScimResource>> FindUserAsync(string attribute, string value, CancellationToken cancellationToken = default) => inner.FindUserAsync(attribute, value, cancellationToken);

        public IAsyncEnumerable<ScimResource> ListUsersAsync(string? filter = null, IReadOnlyList<string>? attributes = null, CancellationToken cancellationToken = default) => inner.ListUsersAsync(filter, attributes, cancellationToken);

        public Task<ScimResult<int>> CountUsersAsync(string? filter = null, CancellationToken cancellationToken = default) => inner.CountUsersAsync(filter, cancellationToken);

        public Task<ScimResult<ScimResource>> PatchUserAsync(string id, IReadOnlyList<ScimPatchOperation> operations, string? version, CancellationToken cancellationToken = default) => inner.PatchUserAsync(id, operations, version, cancellationToken);

        public Task<ScimResult<ScimResource>> ReplaceUserAsync(string id, JsonObject user, string? version, CancellationToken cancellationToken = default) => inner.ReplaceUserAsync(id, user, version, cancellationToken);

        public Task<ScimResult<bool>> DeleteUserAsync(string id, string? version, CancellationToken cancellationToken = default) => inner.DeleteUserAsync(id, version, cancellationToken);

        public Task<ScimResult<ScimResource>> GetGroupAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default) => inner.GetGroupAsync(id, ifNoneMatch, cancellationToken);

        public Task<ScimResult<ScimResource>> FindGroupByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default) => inner.FindGroupByDisplayNameAsync(displayName, cancellationToken);

        public Task<ScimResult<ScimResource>> CreateGroupAsync(string displayName, string? externalId, CancellationToken cancellationToken = default) => inner.CreateGroupAsync(displayName, externalId, cancellationToken);

        public Task<ScimResult<ScimResource>> ReplaceGroupAsync(string id, JsonObject group, string? version, CancellationToken cancellationToken = default) => inner.ReplaceGroupAsync(id, group, version, cancellationToken);

        public Task<ScimResult<bool>> DeleteGroupAsync(string id, string? version, CancellationToken cancellationToken = default) => inner.DeleteGroupAsync(id, version, cancellationToken);

        public Task<ScimResult<ScimResource>> PatchGroupMembersAsync(string id, IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, string? version, CancellationToken cancellationToken = default) => inner.PatchGroupMembersAsync(id, add, remove, version, cancellationToken);

        public Task<ScimResult<JsonObject>> GetServiceProviderConfigAsync(CancellationToken cancellationToken = default) => inner.GetServiceProviderConfigAsync(cancellationToken);
    }
}
