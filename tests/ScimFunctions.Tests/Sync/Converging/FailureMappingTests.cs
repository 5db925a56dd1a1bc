using Azure;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;
using static ScimFunctions.Tests.Sync.Converging.ConvergerHarness;

namespace ScimFunctions.Tests.Sync.Converging;

/// <summary>What a SCIM answer becomes: one mapping for users and groups, differing only where the object kind
/// makes the answer mean something else (a 409 is a taken userName for a user, a taken displayName for a group).</summary>
public sealed class FailureMappingTests
{
    [Fact]
    public async Task GroupCreate_MeetingATakenDisplayName_FailsTransientlyAsGroupNameTaken()
    {
        // Another creator made the group between this convergence's lookup and its POST: the retry's lookup
        // finds and links it, so the item must be retried, not dead-lettered as a userName problem or a
        // permanent refusal.
        using var harness = new ConvergerHarness(canCreateGroups: true);
        harness.Target.AddGroup("Sales");
        harness.Target.FailNext("find group", ScimOutcome.NotFound);
        harness.Directory.Put(new DirectoryGroup(Sales, "Sales", []));

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => harness.Groups.ConvergeAsync(new GroupRequest(Sales), new RunContext(dryRun: false)));

        Assert.Equal(FailureReasons.GroupNameTaken, ex.Reason);
        Assert.True(ex.IsTransient);
        Assert.Contains("409 uniqueness", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GroupCreate_RetriedAfterGroupNameTaken_LinksTheGroupThatWon()
    {
        using var harness = new ConvergerHarness(canCreateGroups: true);
        var winner = harness.Target.AddGroup("Sales");
        harness.Target.FailNext("find group", ScimOutcome.NotFound);
        harness.Directory.Put(new DirectoryGroup(Sales, "Sales", []));
        await Assert.ThrowsAsync<ProvisioningException>(() => harness.Groups.ConvergeAsync(new GroupRequest(Sales), new RunContext(dryRun: false)));

        await harness.Groups.ConvergeAsync(new GroupRequest(Sales), new RunContext(dryRun: false));

        Assert.Equal(winner, (await harness.Store.GetGroupAsync(Sales))?.ScimId);
        Assert.Equal(1, harness.Target.Count("create group"));
    }

    [Fact]
    public async Task UserCreate_UniquenessWithNoHolderFound_FailsPermanentlyAsUserNameTaken()
    {
        using var harness = new ConvergerHarness();
        harness.Directory.Put(Person(Ada, "ada@contoso.com"));
        harness.Target.FailNext("find user", ScimOutcome.NotFound); // the externalId lookup
        harness.Target.FailNext("create user", ScimOutcome.Uniqueness);
        harness.Target.FailNext("find user", ScimOutcome.NotFound); // the holder lookup by userName

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => harness.ConvergeAsync(Ada));

        Assert.Equal(FailureReasons.UserNameTaken, ex.Reason);
        Assert.False(ex.IsTransient);
        Assert.StartsWith(FailureReasons.UserNameTaken, (await harness.RowAsync(Ada)).LastError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ScimOutcome.Throttled, "Throttled", true)]
    [InlineData(ScimOutcome.Transient, "TargetUnavailable", true)]
    [InlineData(ScimOutcome.Unauthorized, "TargetUnauthorized", true)]
    [InlineData(ScimOutcome.InvalidValue, "TargetRejectedValue", false)]
    [InlineData(ScimOutcome.Permanent, "TargetPermanentError", false)]
    public async Task UserAndGroupPatch_SameAnswer_SameReason(ScimOutcome outcome, string reason, bool transient)
    {
        using var harness = new ConvergerHarness();
        harness.Directory.Put(Person(Ada, "ada@contoso.com"));
        harness.Directory.Put(new DirectoryGroup(Sales, "Sales", [Ada]));
        harness.Target.AddGroup("Sales");
        await harness.ConvergeAsync(Ada);
        harness.Directory.Put(Person(Ada, "ada@contoso.com", title: "Lead"));

        harness.Target.FailNext("patch user", outcome);
        var user = await Assert.ThrowsAsync<ProvisioningException>(() => harness.ConvergeAsync(Ada));
        harness.Target.FailNext("patch group members", outcome);
        var group = await Assert.ThrowsAsync<ProvisioningException>(() => harness.Groups.ConvergeAsync(new GroupRequest(Sales), new RunContext(dryRun: false)));

        Assert.Equal((reason, transient), (user.Reason, user.IsTransient));
        Assert.Equal((reason, transient), (group.Reason, group.IsTransient));
    }

    [Theory]
    [InlineData(400, "StateRejectedValue", false)]
    [InlineData(409, "StateUnavailable", true)]
    [InlineData(503, "StateUnavailable", true)]
    public void TableError_ByStatus_RejectedOnlyFor400(int status, string reason, bool transient)
    {
        var ex = StateFailures.FromTable(new RequestFailedException(status, "table error", "SomeCode", null));

        Assert.Equal((reason, transient), (ex.Reason, ex.IsTransient));
        Assert.Contains("SomeCode", ex.Message, StringComparison.Ordinal);
        Assert.IsType<RequestFailedException>(ex.InnerException);
    }
}
