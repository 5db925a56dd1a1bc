using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;
using static ScimFunctions.Tests.Sync.Converging.ConvergerHarness;

namespace ScimFunctions.Tests.Sync.Converging;

/// <summary>The user lifecycle decisions (joiner, mover, leaver, purge, drift) on in-memory seams: what is
/// written where, and how many SCIM calls it takes. Milliseconds each; the Azurite and emulator tests in
/// ScimFunctions.IntegrationTests/Engine keep what only they can show (HTTP, the real Table service).</summary>
public sealed class UserDecisionTests
{
    private static string? Title(JsonObject? user) => user?["title"]?.GetValue<string>();

    // ---------------- joining ----------------

    [Fact]
    public async Task Joiner_NotOnTheTarget_IsLookedUpByExternalIdThenCreated()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));

        var outcome = await h.ConvergeAsync(Ada);

        Assert.Equal(PlanAction.Create, outcome.Action);
        Assert.Equal(["find user", "create user"], h.Target.Calls);
        var row = await h.RowAsync(Ada);
        Assert.Equal((LifecycleState.Active, MappingOrigin.Created), (row.State, row.Origin));
        Assert.Equal(Ada, h.Target.User(row.ScimId!)?["externalId"]?.GetValue<string>());
    }

    [Fact]
    public async Task Joiner_AnchoredOnTheTarget_IsAdoptedAndPatched_NotCreated()
    {
        using var h = new ConvergerHarness();
        var existing = h.Target.AddUser("ada@contoso.com", externalId: Ada, shape: u => u["title"] = "Intern");
        h.Directory.Put(Person(Ada, "ada@contoso.com"));

        var outcome = await h.ConvergeAsync(Ada);

        Assert.Equal(PlanAction.Adopt, outcome.Action);
        Assert.Equal(0, h.Target.Count("create user"));
        Assert.Equal(["displayName", "title", ScimSchemas.EnterpriseUser + ":department"], outcome.Decision!.ChangedPaths.Order(StringComparer.Ordinal));
        Assert.Equal("Engineer", Title(h.Target.User(existing)));
        Assert.Equal((existing, MappingOrigin.Adopted), ((await h.RowAsync(Ada)).ScimId, (await h.RowAsync(Ada)).Origin));
    }

    [Fact]
    public async Task Joiner_CreateMeets409_AdoptsTheHolderOfTheUserName()
    {
        // A create that timed out and is retried: the first POST made the user, without our externalId yet.
        using var h = new ConvergerHarness();
        var holder = h.Target.AddUser("Ada@Contoso.com");
        h.Directory.Put(Person(Ada, "ada@contoso.com"));

        var outcome = await h.ConvergeAsync(Ada);

        Assert.Equal(PlanAction.Adopt, outcome.Action);
        Assert.Contains("create met 409", outcome.Operations[0].Reason, StringComparison.Ordinal);
        Assert.Single(h.Target.Users);
        Assert.Equal(holder, (await h.RowAsync(Ada)).ScimId);
        Assert.Equal(Ada, h.Target.User(holder)?["externalId"]?.GetValue<string>());
    }

    [Fact]
    public async Task Joiner_UserNameHeldByAnotherIdentity_IsNotAdopted()
    {
        using var h = new ConvergerHarness();
        var other = h.Target.AddUser("ada@contoso.com", externalId: Bob);
        h.Directory.Put(Person(Ada, "ada@contoso.com"));

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => h.ConvergeAsync(Ada));

        Assert.Equal((FailureReasons.UserNameTaken, false), (ex.Reason, ex.IsTransient));
        Assert.Equal(Bob, h.Target.User(other)?["externalId"]?.GetValue<string>());
        Assert.Equal(LifecycleState.Failed, (await h.RowAsync(Ada)).State);
    }

    [Fact]
    public async Task Joiner_DisabledInEntraAndNeverProvisioned_IsNotCreated()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com", enabled: false));

        var outcome = await h.ConvergeAsync(Ada);

        Assert.Equal(PlanAction.Skip, outcome.Action);
        Assert.Empty(h.Target.Calls);
    }

    // ---------------- moving ----------------

    [Fact]
    public async Task Mover_ChangedTitle_PatchesOnlyThatPath_WithTheStoredVersion_NoRead()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        h.Target.Calls.Clear();
        h.Directory.Put(Person(Ada, "ada@contoso.com", title: "Lead"));

        var outcome = await h.ConvergeAsync(Ada);

        Assert.Equal(PlanAction.Update, outcome.Action);
        Assert.Equal(["patch user"], h.Target.Calls);
        Assert.Equal(["title"], outcome.Decision!.ChangedPaths);
        Assert.Equal("Lead", Title(h.Target.User((await h.RowAsync(Ada)).ScimId!)));
    }

    [Fact]
    public async Task Mover_Unchanged_SendsNothing()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        h.Target.Calls.Clear();

        var outcome = await h.ConvergeAsync(Ada);

        Assert.Equal(PlanAction.None, outcome.Action);
        Assert.Empty(h.Target.Calls);
    }

    [Fact]
    public async Task Mover_WithStaleVersion_RereadsRediffsAndRetries()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        var scimId = (await h.RowAsync(Ada)).ScimId!;
        h.Target.EditUser(scimId, u => u["displayName"] = "edited by an admin");
        h.Target.Calls.Clear();
        h.Directory.Put(Person(Ada, "ada@contoso.com", title: "Lead"));

        await h.ConvergeAsync(Ada);

        Assert.Equal(["patch user", "get user", "patch user"], h.Target.Calls);
        var user = h.Target.User(scimId);
        Assert.Equal(("Lead", "ada"), (Title(user), user?["displayName"]?.GetValue<string>()));
        Assert.Equal(user?["meta"]?["version"]?.GetValue<string>(), (await h.RowAsync(Ada)).TargetVersion);
    }

    [Fact]
    public async Task Mover_VersionConflictsPersist_FailsTransientAfterTheConfiguredRetries()
    {
        using var h = new ConvergerHarness(new() { ["Sync:ConflictRetries"] = "2" });
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        h.Target.Calls.Clear();
        h.Directory.Put(Person(Ada, "ada@contoso.com", title: "Lead"));
        // Every write meets a conflict: the first, then one after each of the two re-reads.
        h.Target.FailNext("patch user", ScimOutcome.VersionConflict, times: 3);

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => h.ConvergeAsync(Ada));

        Assert.Equal((FailureReasons.VersionConflicts, true), (ex.Reason, ex.IsTransient));
        Assert.Equal((3, 2), (h.Target.Count("patch user"), h.Target.Count("get user")));
    }

    [Fact]
    public async Task Mover_TargetUserDeletedOutsideTheConnector_IsRecreated()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        var before = (await h.RowAsync(Ada)).ScimId!;
        h.Target.DeleteUserBehindTheConnector(before);
        h.Directory.Put(Person(Ada, "ada@contoso.com", title: "Lead"));

        var outcome = await h.ConvergeAsync(Ada);

        Assert.Equal(PlanAction.Recreate, outcome.Action);
        var row = await h.RowAsync(Ada);
        Assert.NotEqual(before, row.ScimId);
        Assert.NotNull(row.RecreatedAt);
        Assert.Equal("Lead", Title(h.Target.User(row.ScimId!)));
    }

    [Fact]
    public async Task Mover_TargetUserDeleted_WithRecreateOff_FailsAndKeepsTheError()
    {
        using var h = new ConvergerHarness(new() { ["Sync:RecreateDeletedTargetUsers"] = "false" });
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        h.Target.DeleteUserBehindTheConnector((await h.RowAsync(Ada)).ScimId!);
        h.Directory.Put(Person(Ada, "ada@contoso.com", title: "Lead"));

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => h.ConvergeAsync(Ada));

        Assert.Equal((FailureReasons.TargetUserDeleted, false), (ex.Reason, ex.IsTransient));
        Assert.Empty(h.Target.Users);
        Assert.StartsWith(FailureReasons.TargetUserDeleted, (await h.RowAsync(Ada)).LastError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true", PlanAction.Recreate)]
    [InlineData("false", PlanAction.Fail)]
    public async Task Plan_TargetUserDeleted_SaysRecreateOrReport_AndWritesNothing(string recreate, PlanAction action)
    {
        using var h = new ConvergerHarness(new() { ["Sync:RecreateDeletedTargetUsers"] = recreate });
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        // A row from before the stored projection: only a read of the target can tell the plan it is gone.
        var before = await h.Store.SaveUserAsync((await h.RowAsync(Ada)) with { Projection = null, ProjectionHash = null });
        h.Target.DeleteUserBehindTheConnector(before.ScimId!);
        h.Directory.Put(Person(Ada, "ada@contoso.com", title: "Lead"));
        h.Target.Calls.Clear();

        var outcome = await h.ConvergeAsync(Ada, new RunContext(dryRun: true));

        Assert.Equal(action, outcome.Action);
        Assert.Equal(["get user"], h.Target.Calls);
        Assert.Empty(h.Target.Users);
        Assert.Equal(before.ETag, (await h.RowAsync(Ada)).ETag);
    }

    // ---------------- leaving ----------------

    [Fact]
    public async Task Leaver_DisabledInEntra_IsDeactivatedOnTheSameTargetUser()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        h.Directory.Put(Person(Ada, "ada@contoso.com", enabled: false));

        var outcome = await h.ConvergeAsync(Ada);

        Assert.Equal(PlanAction.Disable, outcome.Action);
        var row = await h.RowAsync(Ada);
        Assert.Equal((LifecycleState.Disabled, h.Time.GetUtcNow()), (row.State, row.DisabledSince));
        Assert.False(h.Target.User(row.ScimId!)?["active"]?.GetValue<bool>());
    }

    [Fact]
    public async Task Leaver_PastTheThreshold_IsStagedAndHeld_NotDisabled()
    {
        using var h = new ConvergerHarness(new() { ["Sync:Threshold:MinimumActions"] = "1", ["Sync:Threshold:MaxFractionPerHour"] = "0.0001" });
        foreach (var (id, name) in new[] { (Ada, "ada@contoso.com"), (Bob, "bob@contoso.com"), (Cy, "cy@contoso.com") })
        {
            h.Directory.Put(Person(id, name));
            await h.ConvergeAsync(id);
        }

        h.Directory.Remove(Ada);
        h.Directory.Remove(Bob);
        var first = await h.ConvergeAsync(Ada);
        var second = await h.ConvergeAsync(Bob);

        Assert.Equal((PlanAction.Disable, PlanAction.Stage), (first.Action, second.Action));
        Assert.True(h.Target.User((await h.RowAsync(Bob)).ScimId!)?["active"]?.GetValue<bool>());
        Assert.Equal(LifecycleState.Active, (await h.RowAsync(Bob)).State);
        Assert.Equal([Bob], (await h.Store.ListStagedAsync()).Select(s => s.ObjectId));
        Assert.NotNull(await h.Store.GetHoldAsync());
    }

    [Fact]
    public async Task Purge_PastTheGracePeriod_DeletesAndKeepsATombstone()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        h.Directory.Remove(Ada);
        await h.ConvergeAsync(Ada);
        var disabled = await h.RowAsync(Ada);

        var outcome = await h.Users.PurgeAsync(disabled, new RunContext(dryRun: false));

        Assert.Equal(PlanAction.Delete, outcome.Action);
        Assert.Empty(h.Target.Users);
        Assert.Equal(LifecycleState.Deleted, (await h.RowAsync(Ada)).State);
    }

    [Fact]
    public async Task Purge_UserBackInEntra_IsReactivated_NotDeleted()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        h.Directory.Put(Person(Ada, "ada@contoso.com", enabled: false));
        await h.ConvergeAsync(Ada);
        var disabled = await h.RowAsync(Ada);
        h.Directory.Put(Person(Ada, "ada@contoso.com"));

        var outcome = await h.Users.PurgeAsync(disabled, new RunContext(dryRun: false));

        Assert.Equal(PlanAction.Reactivate, outcome.Action);
        Assert.Equal(0, h.Target.Count("delete user"));
        Assert.True(h.Target.User(disabled.ScimId!)?["active"]?.GetValue<bool>());
    }

    [Fact]
    public async Task Purge_DirectoryUnavailable_DeletesNothing()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        h.Directory.Remove(Ada);
        await h.ConvergeAsync(Ada);
        var disabled = await h.RowAsync(Ada);
        h.Directory.Down = true;

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => h.Users.PurgeAsync(disabled, new RunContext(dryRun: false)));

        Assert.Equal(FailureReasons.DirectoryUnavailable, ex.Reason);
        Assert.Equal(0, h.Target.Count("delete user"));
        Assert.Single(h.Target.Users);
    }

    // ---------------- drift ----------------

    [Fact]
    public async Task Drift_AdminEditOnTheTarget_IsReported_NotWritten()
    {
        using var h = new ConvergerHarness();
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        var scimId = (await h.RowAsync(Ada)).ScimId!;
        var unmanaged = h.Target.AddUser("someone@contoso.com", shape: u => u["title"] = "Contractor");
        h.Target.EditUser(scimId, u => u["title"] = "edited");
        h.Target.Calls.Clear();

        var operations = await h.Users.ReportDriftAsync(dryRun: false);

        var drift = Assert.Single(operations);
        Assert.Equal((PlanAction.Drift, Ada, "title"), (drift.Action, drift.ObjectId, drift.Detail));
        Assert.Equal(["list users"], h.Target.Calls);
        Assert.Equal(("edited", "Contractor"), (Title(h.Target.User(scimId)), Title(h.Target.User(unmanaged))));
    }

    [Fact]
    public async Task Drift_WithRemediation_PutsTheAppliedValueBack()
    {
        using var h = new ConvergerHarness(new() { ["Sync:RemediateUserDrift"] = "true" });
        h.Directory.Put(Person(Ada, "ada@contoso.com"));
        await h.ConvergeAsync(Ada);
        var scimId = (await h.RowAsync(Ada)).ScimId!;
        h.Target.EditUser(scimId, u => u["title"] = "edited");

        var operations = await h.Users.ReportDriftAsync(dryRun: false);

        Assert.Equal(PlanAction.Update, Assert.Single(operations).Action);
        Assert.Equal("Engineer", Title(h.Target.User(scimId)));
        Assert.Equal(h.Target.User(scimId)?["meta"]?["version"]?.GetValue<string>(), (await h.RowAsync(Ada)).TargetVersion);
    }
}
