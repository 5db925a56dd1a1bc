using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Tests.Directory;

/// <summary>The snapshot-file directory source: reads, and deltas as the difference from the last snapshot seen.</summary>
public sealed class SnapshotDirectorySourceTests : IDisposable
{
    private readonly string folder = System.IO.Directory.CreateTempSubdirectory("scimfn-snapshot-").FullName;
    private readonly InMemorySnapshotStateStore store = new();

    public void Dispose() => System.IO.Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task GetUser_ByIdOrPrincipalName_ReturnsTheUser()
    {
        var source = Source(SnapshotFileTests.ValidSnapshot);

        Assert.Equal("Ann Smith", (await source.GetUserAsync("u-ann"))?.DisplayName);
        Assert.Equal("u-ann", (await source.GetUserAsync("ANN@contoso.com"))?.Id);
    }

    [Fact]
    public async Task GetUser_AbsentFromSnapshot_ReturnsNull()
    {
        var source = Source(SnapshotFileTests.ValidSnapshot);

        Assert.Null(await source.GetUserAsync("u-nobody"));
        Assert.Null(await source.GetUserAsync("nobody@contoso.com"));
    }

    [Fact]
    public async Task GetGroup_Direct_ListsUserMembersOnly()
    {
        var source = Source(SnapshotFileTests.ValidSnapshot);

        var group = await source.GetGroupAsync("g-sales");

        Assert.NotNull(group);
        Assert.Equal("Sales", group.DisplayName);
        Assert.Equal(["u-boss", "u-ann"], group.MemberIds);
        Assert.Null(await source.GetGroupAsync("g-none"));
    }

    [Fact]
    public async Task FindGroupIdsByDisplayName_MatchesExactlyAndCaseInsensitively()
    {
        var source = Source("""
            { "users": [ { "id": "u1", "accountEnabled": true } ],
              "groups": [ { "id": "g1", "displayName": "Billing Agents", "members": [ { "id": "u1" } ] },
                          { "id": "g2", "displayName": "billing agents", "members": [] },
                          { "id": "g3", "displayName": "Billing Agents EU", "members": [] } ] }
            """);

        Assert.Equal(["g1", "g2"], await source.FindGroupIdsByDisplayNameAsync("BILLING AGENTS"));
        Assert.Equal(["g3"], await source.FindGroupIdsByDisplayNameAsync("billing agents eu"));
        Assert.Empty(await source.FindGroupIdsByDisplayNameAsync("Billing"));
    }

    [Fact]
    public async Task GetGroup_Transitive_ExpandsNestedGroups()
    {
        var source = Source(SnapshotFileTests.ValidSnapshot);

        var group = await source.GetGroupAsync("g-sales", transitive: true);

        Assert.Equal(["u-boss", "u-ann", "u-bob"], group?.MemberIds);
    }

    [Fact]
    public async Task GetGroup_TransitiveWithCycle_VisitsEachGroupOnce()
    {
        var source = Source("""
            { "users": [ { "id": "u1", "accountEnabled": true }, { "id": "u2", "accountEnabled": true } ],
              "groups": [ { "id": "g1", "displayName": "One", "members": [ { "id": "u1" }, { "id": "g2" } ] },
                          { "id": "g2", "displayName": "Two", "members": [ { "id": "u2" }, { "id": "g1" } ] } ] }
            """);

        var group = await source.GetGroupAsync("g1", transitive: true);

        Assert.Equal(["u1", "u2"], group?.MemberIds);
    }

    [Fact]
    public async Task UserChanges_FirstRun_ListsEveryoneAsFullResync()
    {
        var source = Source(SnapshotFileTests.ValidSnapshot);

        var result = await source.GetUserChangesAsync(null);

        Assert.True(result.IsFullResync);
        Assert.Equal(["u-boss", "u-ann", "u-bob"], result.Changed.Select(u => u.Id));
        Assert.Empty(result.Removed);
        Assert.StartsWith("snapshot:users:", result.Cursor, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserChanges_NextSnapshot_ReportsJoinersMoversAndLeaversAsSoftDeleted()
    {
        var path = WriteSnapshot(SnapshotFileTests.ValidSnapshot);
        var source = new SnapshotDirectorySource(path, store, NullLogger<SnapshotDirectorySource>.Instance);
        var first = await source.GetUserChangesAsync(null);
        WriteSnapshot("""
            { "users": [
                { "id": "u-boss", "userPrincipalName": "boss@contoso.com", "displayName": "Bea Boss", "accountEnabled": true,
                  "mail": "boss@contoso.com", "jobTitle": "Director", "department": "Sales", "employeeId": "E1",
                  "mobilePhone": null, "businessPhones": [], "givenName": "Bea", "surname": "Boss" },
                { "id": "u-ann", "userPrincipalName": "ann@contoso.com", "displayName": "Ann Smith", "accountEnabled": true,
                  "mail": "ann@contoso.com", "jobTitle": "Team Lead", "department": "Sales", "employeeId": "E2",
                  "mobilePhone": "+1 555 0100", "businessPhones": ["+1 555 0101"], "manager": { "id": "u-boss" },
                  "employeeOrgData": { "division": "EMEA" } },
                { "id": "u-new", "userPrincipalName": "new@contoso.com", "displayName": "Nia New", "accountEnabled": true }
              ],
              "groups": [] }
            """, path);

        var second = await source.GetUserChangesAsync(first.Cursor);

        Assert.False(second.IsFullResync);
        Assert.Equal(["u-ann", "u-new"], second.Changed.Select(u => u.Id));
        Assert.Equal("Team Lead", second.Changed[0].JobTitle);
        Assert.Equal([new DirectoryRemoval("u-bob", RemovalReason.SoftDeleted)], second.Removed);
        Assert.NotEqual(first.Cursor, second.Cursor);
    }

    [Fact]
    public async Task UserChanges_UnchangedSnapshot_ReportsNothingAndKeepsTheCursor()
    {
        var source = Source(SnapshotFileTests.ValidSnapshot);
        var first = await source.GetUserChangesAsync(null);

        var second = await source.GetUserChangesAsync(first.Cursor);

        Assert.Empty(second.Changed);
        Assert.Empty(second.Removed);
        Assert.Equal(first.Cursor, second.Cursor);
    }

    [Fact]
    public async Task UserChanges_OldCursorReplayed_GivesTheSameDifferenceAgain()
    {
        var path = WriteSnapshot(SnapshotFileTests.ValidSnapshot);
        var source = new SnapshotDirectorySource(path, store, NullLogger<SnapshotDirectorySource>.Instance);
        var first = await source.GetUserChangesAsync(null);
        WriteSnapshot(SnapshotFileTests.ValidSnapshot.Replace("\"Agent\"", "\"Senior Agent\"", StringComparison.Ordinal), path);

        // The caller failed before storing the second cursor and asks again with the first.
        var second = await source.GetUserChangesAsync(first.Cursor);
        var again = await source.GetUserChangesAsync(first.Cursor);

        Assert.Equal(second.Changed.Select(u => u.Id), again.Changed.Select(u => u.Id));
        Assert.Equal(["u-ann"], again.Changed.Select(u => u.Id));
        Assert.Equal(second.Cursor, again.Cursor);
    }

    [Fact]
    public async Task UserChanges_CursorWithoutStoredState_ListsEveryoneAndSaysSo()
    {
        var logger = new FakeLogger<SnapshotDirectorySource>();
        var source = new SnapshotDirectorySource(WriteSnapshot(SnapshotFileTests.ValidSnapshot), store, logger);
        var first = await source.GetUserChangesAsync(null);
        store.Clear();

        var second = await source.GetUserChangesAsync(first.Cursor);

        Assert.True(second.IsFullResync);
        Assert.Equal(3, second.Changed.Count);
        Assert.Empty(second.Removed);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 5022);
    }

    [Fact]
    public async Task UserChanges_GraphCursor_IsNotTakenForASnapshotState()
    {
        var source = Source(SnapshotFileTests.ValidSnapshot);

        var result = await source.GetUserChangesAsync("https://graph.microsoft.com/v1.0/users/delta()?$deltatoken=abc");

        Assert.True(result.IsFullResync);
    }

    [Fact]
    public async Task UserChanges_GraphCursor_IsLoggedWithoutItsDeltaToken()
    {
        var logger = new FakeLogger<SnapshotDirectorySource>();
        var source = new SnapshotDirectorySource(WriteSnapshot(SnapshotFileTests.ValidSnapshot), store, logger);

        await source.GetUserChangesAsync("https://graph.microsoft.com/v1.0/users/delta()?$deltatoken=SECRETISHDELTATOKEN");

        var record = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 5022);
        Assert.DoesNotContain("SECRETISH", record.Message, StringComparison.Ordinal);
        Assert.Contains("users/delta()", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GroupChanges_FirstRunThenNextSnapshot_ReportsMembersAddedRemovedAndGroupsGone()
    {
        var path = WriteSnapshot(SnapshotFileTests.ValidSnapshot);
        var source = new SnapshotDirectorySource(path, store, NullLogger<SnapshotDirectorySource>.Instance);
        var first = await source.GetGroupChangesAsync(null);
        WriteSnapshot("""
            { "users": [ { "id": "u-boss", "accountEnabled": true }, { "id": "u-ann", "accountEnabled": true }, { "id": "u-bob", "accountEnabled": true } ],
              "groups": [
                { "id": "g-sales", "displayName": "Sales", "members": [ { "id": "u-ann" }, { "id": "u-bob" } ] },
                { "id": "g-team", "displayName": "Team Renamed", "members": [ { "id": "u-bob" } ] },
                { "id": "g-new", "displayName": "New", "members": [ { "id": "u-boss" } ] }
              ] }
            """, path);

        var second = await source.GetGroupChangesAsync(first.Cursor);

        Assert.True(first.IsFullResync);
        var sales = Assert.Single(first.Changed, g => g.Id == "g-sales");
        Assert.Equal(["u-boss", "u-ann"], sales.MembersAdded);
        Assert.False(second.IsFullResync);
        Assert.Equal(["g-sales", "g-team", "g-new"], second.Changed.Select(g => g.Id));
        Assert.Equal(["u-bob"], second.Changed[0].MembersAdded);
        Assert.Equal(["u-boss"], second.Changed[0].MembersRemoved);
        Assert.Equal("Team Renamed", second.Changed[1].DisplayName);
        Assert.Empty(second.Changed[1].MembersAdded);
        Assert.Equal(["u-boss"], second.Changed[2].MembersAdded);
        Assert.Equal([new DirectoryRemoval("g-empty", RemovalReason.SoftDeleted)], second.Removed);
    }

    [Fact]
    public async Task UserChanges_SnapshotBecomesInvalid_ThrowsAndTheOldCursorStillWorks()
    {
        var path = WriteSnapshot(SnapshotFileTests.ValidSnapshot);
        var source = new SnapshotDirectorySource(path, store, NullLogger<SnapshotDirectorySource>.Instance);
        var first = await source.GetUserChangesAsync(null);
        WriteSnapshot("{ \"users\": [], \"groups\": [] }", path);

        await Assert.ThrowsAsync<DirectoryUnavailableException>(() => source.GetUserChangesAsync(first.Cursor));
        WriteSnapshot(SnapshotFileTests.ValidSnapshot, path);
        var after = await source.GetUserChangesAsync(first.Cursor);

        Assert.Empty(after.Changed);
        Assert.Empty(after.Removed);
    }

    [Fact]
    public async Task Reads_ParseTheFileOnceAndNoticeWhenItIsReplaced()
    {
        var logger = new FakeLogger<SnapshotDirectorySource>();
        var path = WriteSnapshot(SnapshotFileTests.ValidSnapshot);
        var source = new SnapshotDirectorySource(path, store, logger);

        for (var i = 0; i < 5; i++)
        {
            await source.GetUserAsync("u-ann");
        }

        WriteSnapshot(SnapshotFileTests.ValidSnapshot.Replace("\"Ann Smith\"", "\"Ann Jones-Smith\"", StringComparison.Ordinal), path);
        var renamed = await source.GetUserAsync("u-ann");

        Assert.Equal("Ann Jones-Smith", renamed?.DisplayName);
        Assert.Equal(2, logger.Collector.GetSnapshot().Count(r => r.Id.Id == 5020));
    }

    [Fact]
    public async Task FileStateStore_KeepsStatesAcrossSourcesAndRefusesPathLikeKeys()
    {
        var stateFolder = Path.Combine(folder, "state");
        var path = WriteSnapshot(SnapshotFileTests.ValidSnapshot);
        var first = await new SnapshotDirectorySource(path, new FileSnapshotStateStore(stateFolder), NullLogger<SnapshotDirectorySource>.Instance).GetUserChangesAsync(null);

        var second = await new SnapshotDirectorySource(path, new FileSnapshotStateStore(stateFolder), NullLogger<SnapshotDirectorySource>.Instance).GetUserChangesAsync(first.Cursor);

        Assert.False(second.IsFullResync);
        Assert.Empty(second.Changed);
        await Assert.ThrowsAsync<ArgumentException>(() => new FileSnapshotStateStore(stateFolder).LoadAsync("../../etc/passwd"));
    }

    [Fact]
    public async Task FileStateStore_PrunesOldStatesPerKind()
    {
        var stateFolder = Path.Combine(folder, "state");
        var stateStore = new FileSnapshotStateStore(stateFolder, keepPerKind: 2);

        for (var i = 0; i < 4; i++)
        {
            await stateStore.SaveAsync($"users-{i:x32}", [1]);
        }

        await stateStore.SaveAsync($"groups-{0:x32}", [1]);

        Assert.Equal(2, System.IO.Directory.GetFiles(stateFolder, "users-*.json").Length);
        Assert.Single(System.IO.Directory.GetFiles(stateFolder, "groups-*.json"));
    }

    private SnapshotDirectorySource Source(string json) =>
        new(WriteSnapshot(json), store, NullLogger<SnapshotDirectorySource>.Instance);

    private string WriteSnapshot(string json, string? path = null)
    {
        path ??= Path.Combine(folder, $"snapshot-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
