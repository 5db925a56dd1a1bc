using System.Diagnostics;
using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.IntegrationTests.Graph;

/// <summary>Single reads (users, groups, members) through the real Graph SDK against the Graph double.</summary>
public sealed class GraphReadTests : GraphTestBase
{
    [Fact]
    public async Task GetUser_ById_ReturnsMappedPropertiesAndManagerId()
    {
        SeedUsers();

        var user = await Source().GetUserAsync("u-ann");

        Assert.NotNull(user);
        Assert.Equal("u-ann", user.Id);
        Assert.Equal("ann@contoso.com", user.UserPrincipalName);
        Assert.Equal("Ann Smith", user.DisplayName);
        Assert.True(user.AccountEnabled);
        Assert.Equal("ann@contoso.com", user.Mail);
        Assert.Equal("Agent", user.JobTitle);
        Assert.Equal("Sales", user.Department);
        Assert.Equal("E100", user.EmployeeId);
        Assert.Equal("+1 555 0100", user.MobilePhone);
        Assert.Equal(["+1 555 0101"], user.BusinessPhones);
        Assert.Equal("u-boss", user.ManagerId);
        Assert.True(user.ManagerKnown);
        Assert.Equal("Ann", user.Properties["givenName"]);
        Assert.Equal("Smith", user.Properties["surname"]);
    }

    [Fact]
    public async Task GetUser_SelectsExactlyTheMappedPropertiesAndExpandsOnlyTheManagerId()
    {
        SeedUsers();

        await Source().GetUserAsync("u-ann");

        var request = Assert.Single(Graph.Requests);
        var query = Uri.UnescapeDataString(request.Query);
        Assert.Contains("$select=id,userPrincipalName,displayName,accountEnabled,mail,jobTitle,department,employeeId,mobilePhone,businessPhones,givenName,surname", query);
        Assert.Contains("$expand=manager($select=id)", query);
    }

    [Fact]
    public async Task GetUser_DisabledUserWithoutManager_ReportsDisabledAndNoManager()
    {
        SeedUsers();

        var user = await Source().GetUserAsync("u-cid");
        var bob = await Source().GetUserAsync("u-bob");

        Assert.NotNull(user);
        Assert.Null(user.ManagerId);
        Assert.True(user.ManagerKnown);
        Assert.NotNull(bob);
        Assert.False(bob.AccountEnabled);
    }

    [Fact]
    public async Task GetUser_ByUserPrincipalNameWithHash_FindsTheGuest()
    {
        SeedUsers();

        var user = await Source().GetUserAsync("guest_fabrikam.com#EXT#@contoso.onmicrosoft.com");

        Assert.Equal("u-guest", user?.Id);
        Assert.Contains("%23EXT%23", Assert.Single(Graph.Requests).RawTarget, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetUser_Unknown_ReturnsNull()
    {
        SeedUsers();

        Assert.Null(await Source().GetUserAsync("u-nobody"));
        Assert.Null(await Source().GetUserAsync("nobody@contoso.com"));
    }

    [Fact]
    public async Task GetUser_SoftDeleted_ReturnsNull()
    {
        SeedUsers();
        Graph.SoftDeleteUser("u-cid");

        Assert.Null(await Source().GetUserAsync("u-cid"));
    }

    [Fact]
    public async Task GetUser_404WithoutGraphErrorCode_ThrowsInsteadOfReportingGone()
    {
        SeedUsers();
        Graph.FailNext(404, code: null);

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source().GetUserAsync("u-ann"));

        Assert.Contains("HTTP 404", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetUser_ServerError_ThrowsTransientUnavailable()
    {
        SeedUsers();
        Graph.FailNext(500, code: "generalException");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source().GetUserAsync("u-ann"));

        Assert.True(error.IsTransient);
        Assert.Contains("generalException", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetUser_Forbidden_ThrowsPermanentUnavailable()
    {
        SeedUsers();
        Graph.FailNext(403, code: "Authorization_RequestDenied");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source().GetUserAsync("u-ann"));

        Assert.False(error.IsTransient);
        Assert.Contains("Authorization_RequestDenied", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetUser_WrongToken_ThrowsPermanentUnavailable()
    {
        SeedUsers();

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source(o => o.StaticToken = "not-the-token").GetUserAsync("u-ann"));

        Assert.False(error.IsTransient);
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaticToken_IsSentToTheLoopbackGraphHost()
    {
        SeedUsers();

        await Source().GetUserAsync("u-ann");

        Assert.Equal($"Bearer {GraphDouble.DefaultToken}", Assert.Single(Graph.Requests).Authorization);
    }

    [Fact]
    public async Task GetUser_Throttled_SdkRetriesAfterRetryAfterAndSucceeds()
    {
        SeedUsers();
        Graph.ThrottleNext(2, retryAfterSeconds: 0);

        var user = await Source().GetUserAsync("u-ann");

        Assert.Equal("u-ann", user?.Id);
        var requests = Graph.Requests;
        Assert.Equal(3, requests.Count);
        Assert.Equal([null, "1", "2"], requests.Select(r => r.RetryAttempt));
    }

    [Fact]
    public async Task GetUser_ThrottledPastTheRetryBudget_ThrowsTransientUnavailable()
    {
        SeedUsers();
        Graph.ThrottleNext(10, retryAfterSeconds: 0);

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source(o => o.MaxRetries = 2).GetUserAsync("u-ann"));

        Assert.True(error.IsTransient);
        Assert.Contains("429", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, Graph.Requests.Count);
    }

    [Fact]
    public async Task GetUser_RetryAfterOneSecond_WaitsBeforeRetrying()
    {
        SeedUsers();
        Graph.ThrottleNext(1, retryAfterSeconds: 1);
        var clock = Stopwatch.StartNew();

        var user = await Source().GetUserAsync("u-ann");

        Assert.NotNull(user);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {clock.Elapsed}");
        Assert.Equal(2, Graph.Requests.Count);
    }

    [Fact]
    public async Task GetUser_ExtraSelectedProperties_ArriveInPropertiesByGraphName()
    {
        Graph.AddUser("u-x", "x@contoso.com", "X", properties: p =>
        {
            p["companyName"] = "Contoso";
            p["employeeOrgData"] = new JsonObject { ["division"] = "EMEA", ["costCenter"] = "CC-7" };
            p["extension_abc_badge"] = "B-42";
            p["otherMails"] = new JsonArray("x@fabrikam.com");
        });

        var user = await Source(o => o.UserSelect = "companyName, employeeOrgData,extension_abc_badge,otherMails,jobTitle,surname").GetUserAsync("u-x");

        Assert.NotNull(user);
        Assert.Equal("Contoso", user.Properties["companyName"]);
        Assert.Equal("EMEA", user.Properties["employeeOrgData.division"]);
        Assert.Equal("CC-7", user.Properties["employeeOrgData.costCenter"]);
        Assert.Equal("B-42", user.Properties["extension_abc_badge"]);
        Assert.Equal("[\"x@fabrikam.com\"]", user.Properties["otherMails"]);
        Assert.False(user.Properties.ContainsKey("jobTitle"));
        var query = Uri.UnescapeDataString(Assert.Single(Graph.Requests).Query);
        Assert.Contains("surname,companyName,employeeOrgData,extension_abc_badge,otherMails", query, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(query, "jobTitle"));
    }

    [Fact]
    public async Task GetGroup_FollowsEveryMembersPageAndKeepsUsersOnly()
    {
        SeedUsers();
        Graph.AddGroup("g-inner", "Inner", "u-cid");
        Graph.AddGroup("g-sales", "Sales", "u-boss", "u-ann", "u-bob", "g-inner", "u-guest");
        Graph.AddMember("g-sales", "d-printer", "#microsoft.graph.device");
        Graph.ClearRequests();

        var group = await Source().GetGroupAsync("g-sales");

        Assert.NotNull(group);
        Assert.Equal("Sales", group.DisplayName);
        Assert.Equal(["u-boss", "u-ann", "u-bob", "u-guest"], group.MemberIds);
        // 6 members, 2 per page: 3 member pages, plus the group itself.
        Assert.Equal(3, Graph.CountRequests("GET", "/members"));
        Assert.Equal(4, Graph.Requests.Count);
    }

    [Fact]
    public async Task GetGroup_Transitive_IncludesNestedGroupsUsers()
    {
        SeedUsers();
        Graph.AddGroup("g-deep", "Deep", "u-guest");
        Graph.AddGroup("g-inner", "Inner", "u-cid", "g-deep");
        Graph.AddGroup("g-sales", "Sales", "u-ann", "g-inner");

        var group = await Source().GetGroupAsync("g-sales", transitive: true);

        Assert.NotNull(group);
        Assert.Equal(["u-ann", "u-cid", "u-guest"], group.MemberIds.Order());
        Assert.True(Graph.CountRequests("GET", "/transitiveMembers") >= 2);
    }

    [Fact]
    public async Task GetGroup_Unknown_ReturnsNull()
    {
        Assert.Null(await Source().GetGroupAsync("g-none"));
    }

    [Fact]
    public async Task GetGroup_MembersPageFails_ThrowsRatherThanReturningFewerMembers()
    {
        SeedUsers();
        Graph.AddGroup("g-sales", "Sales", "u-boss", "u-ann", "u-bob", "u-cid");
        Graph.FailNext(500, pathContains: "/members", skip: 1);

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source().GetGroupAsync("g-sales"));

        Assert.Contains("members of group g-sales", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetUsers_ManyIds_ReadsTwentyPerBatchAndLeavesUnknownsOut()
    {
        for (var i = 0; i < 45; i++)
        {
            Graph.AddUser($"u-{i:D2}", $"user{i}@contoso.com", $"User {i}");
        }

        Graph.SetManager("u-01", "u-00");
        IDirectorySource source = Source();
        string[] ids = [.. Enumerable.Range(0, 45).Select(i => $"u-{i:D2}"), "u-missing-1", "u-missing-2", "u-00"];

        var users = await source.GetUsersAsync(ids);

        Assert.Equal(45, users.Count);
        Assert.Equal("u-00", users["u-01"].ManagerId);
        Assert.Equal("User 7", users["u-07"].DisplayName);
        Assert.Equal(3, Graph.CountRequests("POST", "/$batch"));
        Assert.Equal(47, Graph.Requests.Count(r => r.RawTarget.StartsWith("$batch ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task GetUsers_ThrottledInsideTheBatch_ResendsOnlyThoseAfterRetryAfter()
    {
        SeedUsers();
        Graph.ThrottleNext(2, retryAfterSeconds: 0, pathContains: "/users/u-");

        var users = await Source().GetUsersAsync(["u-boss", "u-ann", "u-bob", "u-cid"]);

        Assert.Equal(4, users.Count);
        Assert.Equal(2, Graph.CountRequests("POST", "/$batch"));
        Assert.Equal(6, Graph.Requests.Count(r => r.RawTarget.StartsWith("$batch ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task GetUsers_ThrottledPastTheRetryBudget_ThrowsTransient()
    {
        SeedUsers();
        Graph.ThrottleNext(100, retryAfterSeconds: 0, pathContains: "/users/u-ann");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source(o => o.MaxRetries = 2).GetUsersAsync(["u-boss", "u-ann"]));

        Assert.True(error.IsTransient);
        Assert.Equal(3, Graph.CountRequests("POST", "/$batch"));
    }

    [Fact]
    public async Task GetUsers_InnerFailureOr404WithoutCode_ThrowsInsteadOfReportingGone()
    {
        SeedUsers();
        Graph.FailNext(404, pathContains: "/users/u-ann", code: null);
        Graph.FailNext(500, pathContains: "/users/u-bob");

        var notFound = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source().GetUsersAsync(["u-boss", "u-ann"]));
        var serverError = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source().GetUsersAsync(["u-bob"]));

        Assert.Contains("u-ann", notFound.Message, StringComparison.Ordinal);
        Assert.True(serverError.IsTransient);
    }

    [Fact]
    public async Task DirectorySources_GraphWithToken_ReadsFromTheDoubleLikeTheCli()
    {
        SeedUsers();
        var source = DirectorySources.GraphWithToken(Graph.BaseUrl, GraphDouble.DefaultToken);

        var user = await source.GetUserAsync("boss@contoso.com");

        Assert.Equal("u-boss", user?.Id);
    }

    [Fact]
    public async Task FindGroupIdsByDisplayName_FiltersExactlyAndCaseInsensitively_EscapingQuotes()
    {
        Graph.AddGroup("g-obrien", "O'Brien's Team", "u-ann");
        Graph.AddGroup("g-obrien-2", "O'Brien's Team Leads");
        Graph.AddGroup("g-billing-1", "Billing Agents");
        Graph.AddGroup("g-billing-2", "billing agents");

        var one = await Source().FindGroupIdsByDisplayNameAsync("o'brien's team");
        var two = await Source().FindGroupIdsByDisplayNameAsync("Billing Agents");
        var none = await Source().FindGroupIdsByDisplayNameAsync("Billing");

        Assert.Equal(["g-obrien"], one);
        Assert.Equal(["g-billing-1", "g-billing-2"], two);
        Assert.Empty(none);
        var request = Graph.Requests.First(r => r.Path == "/v1.0/groups");
        var query = Uri.UnescapeDataString(request.Query.Replace('+', ' '));
        Assert.Contains("$filter=displayName eq 'o''brien''s team'", query, StringComparison.Ordinal);
        Assert.Contains("$select=id,displayName", query, StringComparison.Ordinal);
        Assert.Equal(3, Graph.CountRequests("GET", "/v1.0/groups"));
    }

    [Fact]
    public async Task FindGroupIdsByDisplayName_ServerError_ThrowsUnavailableInsteadOfNoMatch()
    {
        Graph.AddGroup("g-billing-1", "Billing Agents");
        Graph.FailNext(500, count: 10, pathContains: "/groups");

        await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Source().FindGroupIdsByDisplayNameAsync("Billing Agents"));
    }
}
