using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>Joiner, mover, rename, manager, leaver, rejoin and purge, end to end: Graph double → webhook →
/// queue → ProvisionObject → Genesys emulator, with the mapping in Azurite. Costs are asserted by counters.</summary>
[Collection(EngineCollection.Name)]
public sealed class UserLifecycleTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private EngineHarness h = null!;

    public async Task InitializeAsync() => h = await EngineHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await h.DisposeAsync();

    private async Task<string> ProvisionAsync(string id, string upn, string name, string? department = "Sales", string? managerId = null)
    {
        h.AddUser(id, upn, name, department, "Agent", managerId: managerId);
        Assert.Equal(202, await h.NotifyAsync(id));
        await h.DrainAsync();
        return (await h.MappingAsync(id)).ScimId!;
    }

    [Fact]
    public async Task Joiner_ViaWebhook_CreatesOneLinkedUser_WithinItsCostTarget()
    {
        h.AddUser("u-ann", "ann@contoso.com", "Ann Smith", "Sales", "Agent");

        Assert.Equal(202, await h.NotifyAsync("u-ann"));
        var settled = await h.DrainAsync();

        Assert.Equal("complete", Assert.Single(settled).Settlement);
        var mapping = await h.MappingAsync("u-ann");
        Assert.Equal(LifecycleState.Active, mapping.State);
        Assert.Equal(MappingOrigin.Created, mapping.Origin);
        var target = h.TargetUser(mapping.ScimId!)!;
        Assert.Equal("ann@contoso.com", (string?)target["userName"]);
        Assert.Equal("u-ann", (string?)target["externalId"]);
        Assert.Equal("Sales", (string?)target[ScimSchemas.EnterpriseUser]!["department"]);
        Assert.Equal(mapping.TargetVersion, target["meta"]!["version"]!.GetValue<string>().Trim('"') is var v ? $"\"{v}\"" : null);

        // Cost: 1 Graph read, at most 2 SCIM requests (lookup + create), 2 Table writes: the mapping row and one history row.
        Assert.Equal(1, h.GraphUserReads("u-ann"));
        Assert.InRange(h.ScimRequests, 1, 2);
        Assert.Equal(1, h.ScimCount("POST"));
        Assert.Equal(2, h.TableWrites.Writes);
        Assert.Equal(1, h.HistoryWrites);
        var created = Assert.Single(await h.HistoryAsync("u-ann"));
        Assert.Equal(HistoryAction.Created, created.Action);
        Assert.Equal(HistoryTrigger.Notification, created.Trigger);
        Assert.Single(created.CorrelationIds!); // the POST's ININ-Correlation-Id
    }

    [Fact]
    public async Task Unchanged_Notification_CostsOneGraphRead_AndNothingElse()
    {
        await ProvisionAsync("u-bob", "bob@contoso.com", "Bob Jones");
        h.ResetCounters();

        await h.NotifyAsync("u-bob");
        var settled = await h.DrainAsync();

        Assert.Equal("complete", Assert.Single(settled).Settlement);
        Assert.Equal(1, h.GraphUserReads("u-bob"));
        Assert.Equal(0, h.ScimRequests);
        Assert.Equal(0, h.TableWrites.Writes);
    }

    [Fact]
    public async Task Mover_DepartmentChange_IsOnePatchWithTheStoredVersion_AndOneTableWrite()
    {
        var scimId = await ProvisionAsync("u-cid", "cid@contoso.com", "Cid Moore");
        h.ResetCounters();

        h.Graph.UpdateUser("u-cid", p => p["department"] = "Support");
        await h.NotifyAsync("u-cid");
        await h.DrainAsync();

        Assert.Equal("Support", (string?)h.TargetUser(scimId)![ScimSchemas.EnterpriseUser]!["department"]);
        Assert.Equal(1, h.GraphUserReads("u-cid"));
        Assert.Equal(1, h.ScimRequests);
        Assert.Equal(1, h.ScimCount("PATCH"));
        Assert.Equal(2, h.TableWrites.Writes); // the mapping row and one history row
        Assert.Equal(1, h.HistoryWrites);
        Assert.Equal("Support", (await h.MappingAsync("u-cid")).Projection![ScimSchemas.EnterpriseUser + ":department"]);
        var moved = (await h.HistoryAsync("u-cid"))[0];
        Assert.Equal(HistoryAction.Updated, moved.Action);
        Assert.Equal([ScimSchemas.EnterpriseUser + ":department"], moved.Attributes);
    }

    [Fact]
    public async Task Mover_ClearedAttribute_IsRemovedOnTheTarget()
    {
        var scimId = await ProvisionAsync("u-dee", "dee@contoso.com", "Dee Dee");

        h.Graph.UpdateUser("u-dee", p => p["jobTitle"] = null);
        await h.NotifyAsync("u-dee");
        await h.DrainAsync();

        Assert.Null(h.TargetUser(scimId)!["title"]);
    }

    [Fact]
    public async Task Rename_UserNameChange_IsAPatchOfTheSameTargetUser()
    {
        var scimId = await ProvisionAsync("u-eve", "eve@contoso.com", "Eve Old");
        h.ResetCounters();

        h.Graph.UpdateUser("u-eve", p =>
        {
            p["userPrincipalName"] = "eve.new@contoso.com";
            p["mail"] = "eve.new@contoso.com";
            p["displayName"] = "Eve New";
        });
        await h.NotifyAsync("u-eve");
        await h.DrainAsync();

        var target = h.TargetUser(scimId)!;
        Assert.Equal("eve.new@contoso.com", (string?)target["userName"]);
        Assert.Equal("Eve New", (string?)target["displayName"]);
        Assert.Equal(0, h.ScimCount("POST"));
        Assert.Equal(0, h.ScimCount("DELETE"));
        Assert.Single(h.TargetUsers(), u => (string?)u["externalId"] == "u-eve");
    }

    [Fact]
    public async Task ManagerChange_PatchesTheReference_AndALateManagerIsPickedUp()
    {
        // The report arrives before its manager: provisioned without a manager, waiting for it.
        h.AddUser("u-boss", "boss@contoso.com", "Bea Boss", "Sales");
        var reportId = await ProvisionAsync("u-rep", "rep@contoso.com", "Rex Report", managerId: "u-boss");
        Assert.Null(h.TargetUser(reportId)![ScimSchemas.EnterpriseUser]?["manager"]);
        Assert.Equal("u-boss", (await h.MappingAsync("u-rep")).PendingManagerId);

        // The manager joins: the report is queued as a follow-up and gets the manager's target id.
        await h.NotifyAsync("u-boss");
        await h.DrainAsync();
        var bossId = (await h.MappingAsync("u-boss")).ScimId;
        Assert.Equal(bossId, (string?)h.TargetUser(reportId)![ScimSchemas.EnterpriseUser]!["manager"]!["value"]);
        Assert.Null((await h.MappingAsync("u-rep")).PendingManagerId);

        // A manager change in Entra is a PATCH of the reference.
        var otherId = await ProvisionAsync("u-boss2", "boss2@contoso.com", "Ben Boss");
        h.Graph.SetManager("u-rep", "u-boss2");
        await h.NotifyAsync("u-rep");
        await h.DrainAsync();
        Assert.Equal(otherId, (string?)h.TargetUser(reportId)![ScimSchemas.EnterpriseUser]!["manager"]!["value"]);
    }

    [Fact]
    public async Task Leaver_SoftDeletedInEntra_IsDisabledNotDeleted()
    {
        var scimId = await ProvisionAsync("u-fay", "fay@contoso.com", "Fay Gone");

        h.Graph.SoftDeleteUser("u-fay");
        await h.NotifyAsync("u-fay");
        await h.DrainAsync();

        var target = h.TargetUser(scimId)!;
        Assert.False((bool?)target["active"]);
        var mapping = await h.MappingAsync("u-fay");
        Assert.Equal(LifecycleState.Disabled, mapping.State);
        Assert.Equal(h.Time.GetUtcNow(), mapping.DisabledSince);
        Assert.Equal(0, h.ScimCount("DELETE"));
    }

    [Fact]
    public async Task Leaver_AccountDisabledInEntra_IsDisabled()
    {
        var scimId = await ProvisionAsync("u-gus", "gus@contoso.com", "Gus Off");

        h.Graph.UpdateUser("u-gus", p => p["accountEnabled"] = false);
        await h.NotifyAsync("u-gus");
        await h.DrainAsync();

        Assert.False((bool?)h.TargetUser(scimId)!["active"]);
        Assert.Equal(LifecycleState.Disabled, (await h.MappingAsync("u-gus")).State);
    }

    [Fact]
    public async Task Rejoin_WithinTheGracePeriod_ReactivatesTheSameTargetUser()
    {
        var scimId = await ProvisionAsync("u-hal", "hal@contoso.com", "Hal Back");
        h.Graph.SoftDeleteUser("u-hal");
        await h.NotifyAsync("u-hal");
        await h.DrainAsync();

        h.Time.Advance(TimeSpan.FromDays(10));
        h.Graph.RestoreUser("u-hal");
        await h.NotifyAsync("u-hal");
        await h.DrainAsync();

        Assert.True((bool?)h.TargetUser(scimId)!["active"]);
        var mapping = await h.MappingAsync("u-hal");
        Assert.Equal(LifecycleState.Active, mapping.State);
        Assert.Equal(scimId, mapping.ScimId);
        Assert.Null(mapping.DisabledSince);
        Assert.Single(h.TargetUsers(), u => (string?)u["externalId"] == "u-hal");
    }

    [Fact]
    public async Task PurgeDisabled_DeletesOnlyAfterTheGracePeriod()
    {
        var scimId = await ProvisionAsync("u-ivy", "ivy@contoso.com", "Ivy Left");
        h.Graph.HardDeleteUser("u-ivy");
        await h.NotifyAsync("u-ivy", changeType: "deleted");
        await h.DrainAsync();

        h.Time.Advance(TimeSpan.FromDays(29));
        await h.Purge.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        Assert.NotNull(h.TargetUser(scimId));

        h.Time.Advance(TimeSpan.FromDays(2));
        await h.Purge.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        Assert.Null(h.TargetUser(scimId));
        Assert.Equal(1, h.ScimCount("DELETE"));
        Assert.Equal(LifecycleState.Deleted, (await h.MappingAsync("u-ivy")).State);
    }

    [Fact]
    public async Task PurgeDisabled_UserBackInEntra_IsReactivatedNotDeleted()
    {
        var scimId = await ProvisionAsync("u-jay", "jay@contoso.com", "Jay Maybe");
        h.Graph.UpdateUser("u-jay", p => p["accountEnabled"] = false);
        await h.NotifyAsync("u-jay");
        await h.DrainAsync();

        // Enabled again in Entra but the notification was missed: purge checks with Graph first.
        h.Graph.UpdateUser("u-jay", p => p["accountEnabled"] = true);
        h.Time.Advance(TimeSpan.FromDays(31));
        await h.Purge.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());

        Assert.True((bool?)h.TargetUser(scimId)!["active"]);
        Assert.Equal(0, h.ScimCount("DELETE"));
    }
}
