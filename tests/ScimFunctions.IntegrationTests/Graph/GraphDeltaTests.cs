using Microsoft.Extensions.Logging.Testing;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.IntegrationTests.Graph;

/// <summary>Users and groups delta rounds through the real SDK: paging, resume, removals, merging, replays, expiry.</summary>
public sealed class GraphDeltaTests : GraphTestBase
{
    [Fact]
    public async Task UserDelta_FirstRun_FollowsEveryPageAndEnumeratesEveryone()
    {
        SeedUsers();

        var result = await Source().GetUserChangesAsync(null);

        Assert.True(result.IsFullResync);
        Assert.Equal(["u-boss", "u-ann", "u-bob", "u-cid", "u-guest"], result.Changed.Select(u => u.Id));
        Assert.Empty(result.Removed);
        Assert.StartsWith(Graph.BaseUrl + "/users/delta", result.Cursor, StringComparison.Ordinal);
        Assert.Contains("$deltatoken=", result.Cursor, StringComparison.Ordinal);
        // 5 users, 2 per page.
        Assert.Equal(3, Graph.CountRequests("GET", "/users/delta"));
        var ann = result.Changed.Single(u => u.Id == "u-ann");
        Assert.Equal("u-boss", ann.ManagerId);
        Assert.True(ann.ManagerKnown);
        Assert.Equal("Agent", ann.JobTitle);
        Assert.Equal("Ann", ann.Properties["givenName"]);
        var cid = result.Changed.Single(u => u.Id == "u-cid");
        Assert.Null(cid.ManagerId);
        Assert.True(cid.ManagerKnown);
    }

    [Fact]
    public async Task UserDelta_SelectsOnTheFirstRequestOnlyNeverWithSkipToken()
    {
        SeedUsers();

        await Source().GetUserChangesAsync(null);

        var requests = Graph.Requests;
        Assert.Contains("$select=id,userPrincipalName,displayName,accountEnabled,mail,jobTitle,department,employeeId,mobilePhone,businessPhones,givenName,surname,manager", Uri.UnescapeDataString(requests[0].Query), StringComparison.Ordinal);
        Assert.All(requests.Skip(1), r =>
        {
            Assert.Contains("skiptoken", r.Query, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("select", r.Query, StringComparison.OrdinalIgnoreCase);
        });
    }

    [Fact]
    public async Task UserDelta_Resume_ReportsChangesJoinersAndSoftAndHardDeletes()
    {
        SeedUsers();
        var source = Source();
        var first = await source.GetUserChangesAsync(null);
        Graph.UpdateUser("u-ann", p => p["jobTitle"] = "Team Lead");
        Graph.SetManager("u-cid", "u-ann");
        Graph.SoftDeleteUser("u-bob");
        Graph.HardDeleteUser("u-guest");
        Graph.AddUser("u-new", "new@contoso.com", "Nia New");

        var second = await source.GetUserChangesAsync(first.Cursor);

        Assert.False(second.IsFullResync);
        Assert.Equal(["u-ann", "u-cid", "u-new"], second.Changed.Select(u => u.Id).Order());
        var ann = second.Changed.Single(u => u.Id == "u-ann");
        Assert.Equal("Team Lead", ann.JobTitle);
        // Graph sends manager@delta only when the manager changed: Ann's manager is unknown here, not removed.
        Assert.False(ann.ManagerKnown);
        Assert.Null(ann.ManagerId);
        var cid = second.Changed.Single(u => u.Id == "u-cid");
        Assert.True(cid.ManagerKnown);
        Assert.Equal("u-ann", cid.ManagerId);
        Assert.Equal(
            [new DirectoryRemoval("u-bob", RemovalReason.SoftDeleted), new DirectoryRemoval("u-guest", RemovalReason.HardDeleted)],
            second.Removed.OrderBy(r => r.Id));
        Assert.NotEqual(first.Cursor, second.Cursor);
    }

    [Fact]
    public async Task UserDelta_ManagerRemoved_ReportsKnownNoManager()
    {
        SeedUsers();
        var source = Source();
        var first = await source.GetUserChangesAsync(null);
        Graph.SetManager("u-ann", null);

        var second = await source.GetUserChangesAsync(first.Cursor);

        var ann = Assert.Single(second.Changed);
        Assert.True(ann.ManagerKnown);
        Assert.Null(ann.ManagerId);
    }

    [Fact]
    public async Task UserDelta_RestoredUser_ComesBackAsChanged()
    {
        SeedUsers();
        var source = Source();
        var first = await source.GetUserChangesAsync(null);
        Graph.SoftDeleteUser("u-cid");
        var second = await source.GetUserChangesAsync(first.Cursor);
        Graph.RestoreUser("u-cid");

        var third = await source.GetUserChangesAsync(second.Cursor);

        Assert.Equal([new DirectoryRemoval("u-cid", RemovalReason.SoftDeleted)], second.Removed);
        Assert.Equal("u-cid", Assert.Single(third.Changed).Id);
        Assert.Empty(third.Removed);
    }

    [Fact]
    public async Task UserDelta_NothingChanged_ReturnsAnEmptyRoundWithANewCursor()
    {
        SeedUsers();
        var source = Source();
        var first = await source.GetUserChangesAsync(null);

        var second = await source.GetUserChangesAsync(first.Cursor);

        Assert.Empty(second.Changed);
        Assert.Empty(second.Removed);
        Assert.False(second.IsFullResync);
    }

    [Fact]
    public async Task UserDelta_ReplayedEntries_AreReportedOnce()
    {
        SeedUsers();
        Graph.ReplayDeltaEntries = true;
        var source = Source();
        var first = await source.GetUserChangesAsync(null);
        Graph.HardDeleteUser("u-bob");
        Graph.UpdateUser("u-cid", p => p["department"] = "Support");

        var second = await source.GetUserChangesAsync(first.Cursor);

        Assert.Equal(5, first.Changed.Count);
        Assert.Equal(5, first.Changed.Select(u => u.Id).Distinct().Count());
        Assert.Equal("u-cid", Assert.Single(second.Changed).Id);
        Assert.Equal("u-bob", Assert.Single(second.Removed).Id);
    }

    [Theory]
    [InlineData(ExpiredTokenStyle.Gone)]
    [InlineData(ExpiredTokenStyle.SyncStateNotFound)]
    public async Task UserDelta_ExpiredToken_StartsAFullResyncAndLogsIt(ExpiredTokenStyle style)
    {
        SeedUsers();
        Graph.ExpiredTokenStyle = style;
        var logger = new FakeLogger<GraphDirectorySource>();
        var source = Source(logger: logger);
        var first = await source.GetUserChangesAsync(null);
        Graph.ExpireDeltaTokens();

        var second = await source.GetUserChangesAsync(first.Cursor);

        Assert.True(second.IsFullResync);
        Assert.Equal(5, second.Changed.Count);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 5002);
        Assert.NotEqual(first.Cursor, second.Cursor);
    }

    [Fact]
    public async Task UserDelta_CursorFromAnotherHost_StartsAFullResync()
    {
        SeedUsers();
        var logger = new FakeLogger<GraphDirectorySource>();

        var result = await Source(logger: logger).GetUserChangesAsync("https://graph.microsoft.com/v1.0/users/delta()?$deltatoken=abc");

        Assert.True(result.IsFullResync);
        Assert.Equal(5, result.Changed.Count);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 5003);
    }

    [Fact]
    public async Task UserDelta_PageFails_ThrowsAndNeverReturnsAPartialRound()
    {
        SeedUsers();
        Graph.FailNext(500, pathContains: "/users/delta", skip: 1);

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source().GetUserChangesAsync(null));

        Assert.True(error.IsTransient);
        Assert.Contains("page 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserDelta_ThrottledPage_IsRetriedByTheSdk()
    {
        SeedUsers();
        Graph.ThrottleNext(1, retryAfterSeconds: 0, pathContains: "/users/delta");

        var result = await Source().GetUserChangesAsync(null);

        Assert.Equal(5, result.Changed.Count);
        Assert.Equal(4, Graph.CountRequests("GET", "/users/delta"));
    }

    [Fact]
    public async Task GroupDelta_FirstRun_MergesMembersSpreadOverSeveralPagesUsersOnly()
    {
        SeedUsers();
        Graph.AddGroup("g-sales", "Sales", "u-boss", "u-ann", "u-bob", "u-cid", "u-guest");
        Graph.AddGroup("g-support", "Support", "u-cid");
        Graph.AddMember("g-sales", "d-printer", "#microsoft.graph.device");
        Graph.AddMember("g-support", "g-sales");
        Graph.DeltaPageSize = 1;

        var result = await Source().GetGroupChangesAsync(null);

        Assert.True(result.IsFullResync);
        // Sales' six members arrive two per entry, one entry per page, between Support's entry.
        Assert.Equal(4, Graph.CountRequests("GET", "/groups/delta"));
        var sales = Assert.Single(result.Changed, g => g.Id == "g-sales");
        Assert.Equal("Sales", sales.DisplayName);
        Assert.Equal(["u-boss", "u-ann", "u-bob", "u-cid", "u-guest"], sales.MembersAdded);
        Assert.Empty(sales.MembersRemoved);
        var support = Assert.Single(result.Changed, g => g.Id == "g-support");
        Assert.Equal(["u-cid"], support.MembersAdded);
        Assert.Contains("$select=displayName,members", Uri.UnescapeDataString(Graph.Requests[0].Query), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GroupDelta_Resume_ReportsMembersAddedRemovedRenamesAndDeletes()
    {
        SeedUsers();
        Graph.AddGroup("g-sales", "Sales", "u-boss", "u-ann");
        Graph.AddGroup("g-old", "Old", "u-bob");
        Graph.AddGroup("g-m365", "M365", "u-bob");
        Graph.AddGroup("g-quiet", "Quiet", "u-cid");
        var source = Source();
        var first = await source.GetGroupChangesAsync(null);
        Graph.AddMember("g-sales", "u-cid");
        Graph.RemoveMember("g-sales", "u-boss");
        Graph.RenameGroup("g-sales", "Sales EMEA");
        Graph.DeleteGroup("g-old");
        Graph.DeleteGroup("g-m365", permanently: false);

        var second = await source.GetGroupChangesAsync(first.Cursor);

        Assert.False(second.IsFullResync);
        var sales = Assert.Single(second.Changed);
        Assert.Equal("g-sales", sales.Id);
        Assert.Equal("Sales EMEA", sales.DisplayName);
        Assert.Equal(["u-cid"], sales.MembersAdded);
        Assert.Equal(["u-boss"], sales.MembersRemoved);
        Assert.Equal(
            [new DirectoryRemoval("g-m365", RemovalReason.SoftDeleted), new DirectoryRemoval("g-old", RemovalReason.HardDeleted)],
            second.Removed.OrderBy(r => r.Id));
    }

    [Fact]
    public async Task GroupDelta_MemberAddedThenRemovedInOneRound_LastWordWins()
    {
        SeedUsers();
        Graph.AddGroup("g-sales", "Sales", "u-boss");
        Graph.MembersPerDeltaEntry = 1;
        var source = Source();
        var first = await source.GetGroupChangesAsync(null);
        Graph.AddMember("g-sales", "u-ann");
        Graph.AddMember("g-sales", "u-bob");
        Graph.RemoveMember("g-sales", "u-ann");

        var second = await source.GetGroupChangesAsync(first.Cursor);

        var sales = Assert.Single(second.Changed);
        Assert.Equal(["u-bob"], sales.MembersAdded);
        Assert.Equal(["u-ann"], sales.MembersRemoved);
    }

    [Fact]
    public async Task GroupDelta_ReplayedEntries_AreMergedOnce()
    {
        SeedUsers();
        Graph.ReplayDeltaEntries = true;
        Graph.AddGroup("g-sales", "Sales", "u-boss", "u-ann", "u-bob");

        var result = await Source().GetGroupChangesAsync(null);

        var sales = Assert.Single(result.Changed);
        Assert.Equal(["u-boss", "u-ann", "u-bob"], sales.MembersAdded);
    }

    [Fact]
    public async Task GroupDelta_ExpiredToken_StartsAFullResync()
    {
        SeedUsers();
        Graph.AddGroup("g-sales", "Sales", "u-boss");
        var source = Source();
        var first = await source.GetGroupChangesAsync(null);
        Graph.ExpireDeltaTokens();

        var second = await source.GetGroupChangesAsync(first.Cursor);

        Assert.True(second.IsFullResync);
        Assert.Equal(["u-boss"], Assert.Single(second.Changed).MembersAdded);
    }
}
