using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;
using static ScimFunctions.Tests.Sync.Converging.ConvergerHarness;

namespace ScimFunctions.Tests.Sync.Converging;

/// <summary>Group member decisions on in-memory seams: the member diff, what is never touched, pending members,
/// the version-conflict retry, a deleted Entra group, and a plan that writes nothing.</summary>
public sealed class GroupDecisionTests
{
    private static async Task<ConvergerHarness> WithProvisionedAsync(params string[] ids)
    {
        var h = new ConvergerHarness();
        foreach (var id in ids)
        {
            h.Directory.Put(Person(id, id[..1] + "@contoso.com"));
            await h.ConvergeAsync(id);
        }

        h.Target.Calls.Clear();
        return h;
    }

    private static Task<GroupOutcome> ConvergeGroupAsync(ConvergerHarness h, bool dryRun = false, RunContext? run = null) =>
        h.Groups.ConvergeAsync(new GroupRequest(Sales), run ?? new RunContext(dryRun));

    private static async Task<string> ScimIdAsync(ConvergerHarness h, string id) => (await h.RowAsync(id)).ScimId!;

    [Fact]
    public async Task Members_NewlyMapped_AreAddedInOnePatch_AndUnmanagedMembersStay()
    {
        using var h = await WithProvisionedAsync(Ada, Bob);
        var unmanaged = h.Target.AddUser("contractor@contoso.com");
        var group = h.Target.AddGroup("Sales", unmanaged);
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", [Ada, Bob, Cy]));
        h.Target.Calls.Clear();

        var outcome = await ConvergeGroupAsync(h);

        Assert.Equal((PlanAction.Update, 2, 0), (outcome.Action, outcome.MembersAdded, outcome.MembersRemoved));
        Assert.Equal(["find group", "patch group members"], h.Target.Calls);
        Assert.Equal(new HashSet<string> { unmanaged, await ScimIdAsync(h, Ada), await ScimIdAsync(h, Bob) }, h.Target.Members(group));
        var row = await h.Store.GetGroupAsync(Sales);
        Assert.Equal([Cy], row!.PendingMembers);
        Assert.Contains((ObjectKind.Group, Sales), await h.Store.ListPendingAsync(Cy));
    }

    [Fact]
    public async Task Members_WhoLeftTheEntraGroup_AreRemoved_FromTheStoredSet_WithoutARead()
    {
        using var h = await WithProvisionedAsync(Ada, Bob);
        var group = h.Target.AddGroup("Sales");
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", [Ada, Bob]));
        await ConvergeGroupAsync(h);
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", [Ada]));
        h.Target.Calls.Clear();

        var outcome = await ConvergeGroupAsync(h);

        Assert.Equal((1, 0), (outcome.MembersRemoved, outcome.MembersAdded));
        Assert.Equal(["patch group members"], h.Target.Calls);
        Assert.Equal(new HashSet<string> { await ScimIdAsync(h, Ada) }, h.Target.Members(group));
    }

    [Fact]
    public async Task Members_Unchanged_SendNothing()
    {
        using var h = await WithProvisionedAsync(Ada);
        h.Target.AddGroup("Sales");
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", [Ada]));
        await ConvergeGroupAsync(h);
        h.Target.Calls.Clear();

        var outcome = await ConvergeGroupAsync(h);

        Assert.Equal(PlanAction.None, outcome.Action);
        Assert.Empty(h.Target.Calls);
    }

    [Fact]
    public async Task Members_WithStaleVersion_RereadRediffAndRetry()
    {
        using var h = await WithProvisionedAsync(Ada, Bob);
        var group = h.Target.AddGroup("Sales");
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", [Ada]));
        await ConvergeGroupAsync(h);
        // An admin adds Bob (a managed user) on the target: the stored version is stale, and Bob is not wanted there.
        h.Target.AddMemberBehindTheConnector(group, await ScimIdAsync(h, Bob));
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", []));
        h.Target.Calls.Clear();

        var outcome = await ConvergeGroupAsync(h);

        Assert.Equal(["patch group members", "get group", "patch group members"], h.Target.Calls);
        Assert.Equal(2, outcome.MembersRemoved);
        Assert.Empty(h.Target.Members(group));
    }

    [Fact]
    public async Task Members_TargetGroupDeletedOnTheTarget_MakeTheGroupUnmatched()
    {
        using var h = await WithProvisionedAsync(Ada);
        h.Target.AddGroup("Sales");
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", [Ada]));
        await ConvergeGroupAsync(h);
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", []));
        h.Target.FailNext("patch group members", ScimOutcome.NotFound);

        var outcome = await ConvergeGroupAsync(h);

        Assert.True(outcome.Unmatched);
        var row = await h.Store.GetGroupAsync(Sales);
        Assert.Equal((GroupState.Unmatched, null), (row!.State, row.ScimId));
    }

    [Fact]
    public async Task EntraGroupDeleted_RemovesOnlyTheMembersThisConnectorAdded()
    {
        using var h = await WithProvisionedAsync(Ada);
        var unmanaged = h.Target.AddUser("contractor@contoso.com");
        var group = h.Target.AddGroup("Sales", unmanaged);
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", [Ada]));
        await ConvergeGroupAsync(h);

        var outcome = await h.Groups.ConvergeAsync(new GroupRequest(Sales, Removed: true), new RunContext(dryRun: false));

        Assert.Equal(1, outcome.MembersRemoved);
        Assert.Equal(new HashSet<string> { unmanaged }, h.Target.Members(group));
        Assert.Equal(GroupState.Removed, (await h.Store.GetGroupAsync(Sales))!.State);
    }

    [Fact]
    public async Task Plan_CountsAJoinerItWouldCreateAsAMember_AndWritesNothing()
    {
        using var h = await WithProvisionedAsync(Ada);
        var group = h.Target.AddGroup("Sales");
        h.Directory.Put(Person(Bob, "b@contoso.com"));
        h.Directory.Put(new DirectoryGroup(Sales, "Sales", [Ada, Bob]));
        var plan = new RunContext(dryRun: true);

        var joiner = await h.Users.ConvergeAsync(new UserRequest(Bob), plan);
        var outcome = await ConvergeGroupAsync(h, run: plan);

        Assert.Equal(PlanAction.Create, joiner.Action);
        Assert.Equal((PlanAction.Update, 2), (outcome.Action, outcome.MembersAdded));
        Assert.Equal(SimulatedTarget.Created, plan.SimulatedActive[Bob]);
        Assert.DoesNotContain(h.Target.Calls, c => c is "create user" or "patch group members" or "patch user");
        Assert.Empty(h.Target.Members(group));
        Assert.Null(await h.Store.GetUserAsync(Bob));
        Assert.Null(await h.Store.GetGroupAsync(Sales));
    }
}
