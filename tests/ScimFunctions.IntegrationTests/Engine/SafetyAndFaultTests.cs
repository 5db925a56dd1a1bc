using System.Text.Json.Nodes;
using GenesysScimEmulator.State;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>Adoption, the deletion threshold, target-side deletion, version conflicts, 429 bursts, duplicate and
/// reordered messages, a crash between the SCIM write and the mapping write, and settlement of bad input.</summary>
[Collection(EngineCollection.Name)]
public sealed class SafetyAndFaultTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private EngineHarness h = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (h is not null)
        {
            await h.DisposeAsync();
        }
    }

    private async Task StartAsync(Action<SyncOptions>? sync = null, Action<ScimOptions>? scim = null, Action<GenesysScimEmulator.EmulatorOptions>? emulator = null) =>
        h = await EngineHarness.StartAsync(azurite, sync, emulator, scim);

    private async Task<string> ProvisionAsync(string id, string upn, string? department = "Sales")
    {
        h.AddUser(id, upn, upn, department, "Agent");
        await h.NotifyAsync(id);
        await h.DrainAsync();
        return (await h.MappingAsync(id)).ScimId!;
    }

    [Fact]
    public async Task Adoption_ExistingTargetUserWithTheSameUserName_IsLinkedAndPatched_NotDuplicated()
    {
        await StartAsync();
        var existing = h.Emulator.State.Seed(new JsonObject { ["users"] = new JsonArray(new JsonObject { ["userName"] = "kim@contoso.com", ["displayName"] = "Kim (old)" }) }).Users.Single().Id;
        h.AddUser("u-kim", "kim@contoso.com", "Kim New", "Sales");

        await h.NotifyAsync("u-kim");
        await h.DrainAsync();

        var mapping = await h.MappingAsync("u-kim");
        Assert.Equal(existing, mapping.ScimId);
        Assert.Equal(MappingOrigin.Adopted, mapping.Origin);
        Assert.Single(h.TargetUsers());
        var target = h.TargetUser(existing)!;
        Assert.Equal("Kim New", (string?)target["displayName"]);
        Assert.Equal("u-kim", (string?)target["externalId"]);
    }

    [Fact]
    public async Task Adoption_UserNameHeldByAnotherIdentity_IsRefused_AndDeadLettered()
    {
        await StartAsync();
        h.Emulator.State.Seed(new JsonObject { ["users"] = new JsonArray(new JsonObject { ["userName"] = "lee@contoso.com", ["displayName"] = "Lee", ["externalId"] = "someone-else" }) });
        h.AddUser("u-lee", "lee@contoso.com", "Lee");

        await h.NotifyAsync("u-lee");
        var settled = await h.DrainAsync();

        var dead = Assert.Single(settled);
        Assert.Equal("deadletter", dead.Settlement);
        Assert.Equal(FailureReasons.UserNameTaken, dead.DeadLetterReason);
        var row = await h.MappingAsync("u-lee");
        Assert.Equal(LifecycleState.Failed, row.State);
        Assert.Contains(FailureReasons.UserNameTaken, row.LastError, StringComparison.Ordinal);
        var status = await h.Engine.GetStatusAsync();
        Assert.Contains(status.Failures, f => f.ObjectId == "u-lee");
    }

    [Fact]
    public async Task UnmappedTargetUsers_AreNeverTouched()
    {
        await StartAsync();
        var stranger = h.Emulator.State.Seed(new JsonObject { ["users"] = new JsonArray(new JsonObject { ["userName"] = "admin@contoso.com", ["displayName"] = "Break Glass" }) }).Users.Single().Id;
        await ProvisionAsync("u-one", "one@contoso.com");
        h.ResetCounters();

        await h.Engine.SyncAsync(dryRun: false);
        await h.Engine.ReconcileGroupsAsync();
        h.Time.Advance(TimeSpan.FromDays(90));
        await h.Engine.PurgeDisabledAsync();

        Assert.True((bool?)h.TargetUser(stranger)!["active"]);
        Assert.Equal(0, h.ScimCount("PATCH") + h.ScimCount("DELETE"));
    }

    [Fact]
    public async Task DeletionThreshold_BeyondTheLimit_StagesAndHolds_UntilReleased()
    {
        await StartAsync(sync: o => o.Threshold = new ThresholdOptions { MaxActionsPerHour = 2, MinimumActions = 0, MaxFractionPerHour = 1 });
        var ids = new[] { "u-t1", "u-t2", "u-t3", "u-t4" };
        foreach (var id in ids)
        {
            await ProvisionAsync(id, id + "@contoso.com");
        }

        foreach (var id in ids)
        {
            h.Graph.SoftDeleteUser(id);
            await h.NotifyAsync(id);
        }

        await h.DrainAsync();

        var states = new List<LifecycleState>();
        foreach (var id in ids)
        {
            states.Add((await h.MappingAsync(id)).State);
        }

        Assert.Equal(2, states.Count(s => s == LifecycleState.Disabled));
        Assert.Equal(2, states.Count(s => s == LifecycleState.Active));
        var status = await h.Engine.GetStatusAsync();
        Assert.NotNull(status.Hold);
        Assert.Equal(2, status.Staged.Count);
        Assert.All(status.Staged, s => Assert.Equal(PlanAction.Disable, s.Action));

        // While the hold stands, nothing destructive runs, even in a new hour.
        h.Time.Advance(TimeSpan.FromHours(2));
        await h.Engine.SyncAsync(dryRun: false);
        Assert.Equal(2, (await h.Engine.GetStatusAsync()).UsersByState["Active"]);

        var released = await h.Engine.ReleaseStagedAsync();
        Assert.Equal(2, released.Disabled);
        status = await h.Engine.GetStatusAsync();
        Assert.Null(status.Hold);
        Assert.Empty(status.Staged);
        Assert.Equal(4, status.UsersByState["Disabled"]);
    }

    [Fact]
    public async Task DeletionThreshold_Discard_DropsTheStagedActions_AndLiftsTheHold()
    {
        await StartAsync(sync: o => o.Threshold = new ThresholdOptions { MaxActionsPerHour = 1, MinimumActions = 0, MaxFractionPerHour = 1 });
        await ProvisionAsync("u-d1", "d1@contoso.com");
        await ProvisionAsync("u-d2", "d2@contoso.com");
        h.Graph.SoftDeleteUser("u-d1");
        h.Graph.SoftDeleteUser("u-d2");
        await h.NotifyAsync("u-d1");
        await h.NotifyAsync("u-d2");
        await h.DrainAsync();
        Assert.Single((await h.Engine.GetStatusAsync()).Staged);

        await h.Engine.DiscardStagedAsync();

        var status = await h.Engine.GetStatusAsync();
        Assert.Null(status.Hold);
        Assert.Empty(status.Staged);
        Assert.Equal(1, status.UsersByState["Active"]);
    }

    [Fact]
    public async Task TargetSideDeletion_IsRecreated_AndRecorded()
    {
        await StartAsync();
        var oldId = await ProvisionAsync("u-mia", "mia@contoso.com");
        h.Emulator.State.Store.DeleteUser(oldId, null);

        h.Graph.UpdateUser("u-mia", p => p["department"] = "Support");
        await h.NotifyAsync("u-mia");
        await h.DrainAsync();

        var mapping = await h.MappingAsync("u-mia");
        Assert.NotEqual(oldId, mapping.ScimId);
        Assert.NotNull(mapping.RecreatedAt);
        Assert.Equal("Support", (string?)h.TargetUser(mapping.ScimId!)![ScimSchemas.EnterpriseUser]!["department"]);
    }

    [Fact]
    public async Task TargetSideDeletion_WithRecreateOff_IsReported_AndDeadLettered()
    {
        await StartAsync(sync: o => o.RecreateDeletedTargetUsers = false);
        var oldId = await ProvisionAsync("u-ned", "ned@contoso.com");
        h.Emulator.State.Store.DeleteUser(oldId, null);

        h.Graph.UpdateUser("u-ned", p => p["department"] = "Support");
        await h.NotifyAsync("u-ned");
        var settled = await h.DrainAsync();

        Assert.Equal(FailureReasons.TargetUserDeleted, Assert.Single(settled).DeadLetterReason);
        Assert.Contains(FailureReasons.TargetUserDeleted, (await h.MappingAsync("u-ned")).LastError, StringComparison.Ordinal);
        Assert.Empty(h.TargetUsers());
    }

    [Fact]
    public async Task VersionConflict_FromAConcurrentAdminEdit_RereadsRediffsAndRetries()
    {
        await StartAsync();
        var scimId = await ProvisionAsync("u-ola", "ola@contoso.com");
        // An administrator edits the user in Genesys: the stored version is now stale.
        h.Emulator.State.Store.EditUserConcurrently(scimId, new JsonObject { ["title"] = "Edited in Genesys" });
        h.ResetCounters();

        h.Graph.UpdateUser("u-ola", p => p["department"] = "Support");
        await h.NotifyAsync("u-ola");
        var settled = await h.DrainAsync();

        Assert.Equal("complete", Assert.Single(settled).Settlement);
        var target = h.TargetUser(scimId)!;
        Assert.Equal("Support", (string?)target[ScimSchemas.EnterpriseUser]!["department"]);
        Assert.Equal("Agent", (string?)target["title"]); // owned: put back to the Entra value
        Assert.Equal(2, h.ScimCount("PATCH"));
        Assert.Equal(1, h.ScimCount("GET"));
        Assert.Equal(1, h.StateWrites);
        Assert.Equal(1, h.HistoryWrites);
        Assert.Equal($"\"{h.Emulator.State.Store.GetUser(scimId, new ResourceUrls(h.Emulator.ScimBaseUrl))!.Version}\"", (await h.MappingAsync("u-ola")).TargetVersion);

        // The refused PATCH and the one that went through: both correlation ids, in order.
        var updated = (await h.HistoryAsync("u-ola"))[0];
        Assert.Equal(HistoryAction.Updated, updated.Action);
        Assert.Equal(2, updated.CorrelationIds!.Distinct().Count());
    }

    [Fact]
    public async Task ThrottleBurst_429s_AreRescheduled_AndNothingIsLost()
    {
        // Retry-After longer than the client's call budget: the client gives up at once and the engine reschedules.
        await StartAsync(scim: o => { o.CallTimeBudget = TimeSpan.FromMilliseconds(600); o.AttemptTimeout = TimeSpan.FromMilliseconds(500); });
        for (var i = 0; i < 5; i++)
        {
            h.AddUser($"u-burst{i}", $"burst{i}@contoso.com", $"Burst {i}");
        }

        h.Emulator.State.Faults.Set(new FaultSettings { ThrottleCount = 6, ThrottleRetryAfterSeconds = 1, Kinds = ["users"] });
        for (var i = 0; i < 5; i++)
        {
            await h.NotifyAsync($"u-burst{i}");
        }

        var settled = await h.DrainAsync();

        Assert.Empty(h.Queue.DeadLettered);
        Assert.True(h.Queue.Sent.Count > 5, "Some items were rescheduled as new messages.");
        Assert.Contains(h.Queue.Sent, m => m.MessageId.Contains("#r1", StringComparison.Ordinal) && m.ScheduledEnqueueTime > h.Time.GetUtcNow());
        Assert.Equal(5, h.TargetUsers().Count);
        Assert.All(settled, s => Assert.Equal("complete", s.Settlement));
        Assert.Equal(6, h.Emulator.State.Counters.CountStatus(429));
    }

    [Fact]
    public async Task DuplicateAndReorderedMessages_AreHarmless()
    {
        await StartAsync();
        h.AddUser("u-pat", "pat@contoso.com", "Pat", "Sales");
        await h.NotifyAsync("u-pat", sequenceNumber: 1);
        await h.NotifyAsync("u-pat", sequenceNumber: 1); // Graph redelivers the same notification
        Assert.Equal(1, h.Queue.DuplicatesDropped);
        var first = h.Queue.Sent[0];
        await h.DrainAsync();

        h.Graph.UpdateUser("u-pat", p => p["department"] = "Support");
        await h.NotifyAsync("u-pat", sequenceNumber: 2);
        await h.DrainAsync();

        // An old message arrives late (broker redelivery): level-triggered, it converges to the current state.
        h.ResetCounters();
        h.Queue.Redeliver(first);
        var settled = await h.DrainAsync();

        Assert.Equal("complete", Assert.Single(settled).Settlement);
        var mapping = await h.MappingAsync("u-pat");
        Assert.Equal("Support", (string?)h.TargetUser(mapping.ScimId!)![ScimSchemas.EnterpriseUser]!["department"]);
        Assert.Single(h.TargetUsers());
        Assert.Equal(0, h.ScimWrites);
    }

    [Fact]
    public async Task CrashBetweenScimWriteAndTableWrite_RetryDoesNotDuplicate()
    {
        await StartAsync();
        h.AddUser("u-quin", "quin@contoso.com", "Quin", "Sales");
        h.TableWrites.FailNextWrites(1); // the mapping insert after the SCIM create fails

        await h.NotifyAsync("u-quin");
        var settled = await h.DrainAsync();

        Assert.Equal(2, settled.Count); // first attempt rescheduled, second converged
        Assert.Single(h.TargetUsers());
        Assert.Equal(1, h.ScimCount("POST"));
        var mapping = await h.MappingAsync("u-quin");
        Assert.Equal(LifecycleState.Active, mapping.State);
        Assert.Equal((string?)h.TargetUsers().Single()["id"], mapping.ScimId);
    }

    [Fact]
    public async Task CrashAfterAPatch_RetryConvergesWithoutASecondChange()
    {
        await StartAsync();
        var scimId = await ProvisionAsync("u-ray", "ray@contoso.com");
        h.Graph.UpdateUser("u-ray", p => p["department"] = "Support");
        h.TableWrites.FailNextWrites(1);

        await h.NotifyAsync("u-ray");
        await h.DrainAsync();

        Assert.Equal("Support", (string?)h.TargetUser(scimId)![ScimSchemas.EnterpriseUser]!["department"]);
        Assert.Equal("Support", (await h.MappingAsync("u-ray")).Projection![ScimSchemas.EnterpriseUser + ":department"]);
        Assert.Single(h.TargetUsers());
    }

    [Fact]
    public async Task MalformedMessage_IsDeadLettered_WithAReason()
    {
        await StartAsync();
        h.EnqueueRaw("{not json", "bad-1", "s1");
        h.EnqueueRaw("""{"kind":"User","objectId":"a/b","changeType":"updated","receivedAt":"2026-03-02T09:00:00Z"}""", "bad-2", "s2");

        var settled = await h.DrainAsync();

        Assert.All(settled, s => Assert.Equal("deadletter", s.Settlement));
        Assert.All(settled, s => Assert.Equal(FailureReasons.MalformedBody, s.DeadLetterReason));
        Assert.All(settled, s => Assert.False(string.IsNullOrEmpty(s.DeadLetterDescription)));
    }

    [Fact]
    public async Task TargetRejectsAValue_IsDeadLettered_WithTheErrorOnTheRow()
    {
        await StartAsync(sync: o => o.Division = "NoSuchDivision", emulator: o => o.Divisions = ["Home"]);
        h.AddUser("u-sam", "sam@contoso.com", "Sam");

        await h.NotifyAsync("u-sam");
        var settled = await h.DrainAsync();

        var dead = Assert.Single(settled);
        Assert.Equal("deadletter", dead.Settlement);
        Assert.Equal(FailureReasons.TargetRejectedValue, dead.DeadLetterReason);
        Assert.Contains("TargetRejectedValue", (await h.MappingAsync("u-sam")).LastError, StringComparison.Ordinal);
        Assert.Empty(h.TargetUsers());
    }

    [Fact]
    public async Task GraphUnavailable_IsNeverALeaver_AndEndsDeadLetteredAfterTheLastAttempt()
    {
        await StartAsync(sync: o => o.MaxAttempts = 2);
        var scimId = await ProvisionAsync("u-tom", "tom@contoso.com");
        h.Graph.FailNext(503, count: 20, pathContains: "/users/u-tom");

        await h.NotifyAsync("u-tom");
        var settled = await h.DrainAsync();

        Assert.Equal(["complete", "deadletter"], settled.Select(s => s.Settlement!));
        Assert.Equal(FailureReasons.RetriesExhausted, settled[^1].DeadLetterReason);
        Assert.True((bool?)h.TargetUser(scimId)!["active"]);
        var row = await h.MappingAsync("u-tom");
        Assert.Equal(LifecycleState.Active, row.State);
        Assert.Contains(FailureReasons.DirectoryUnavailable, row.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MappingRowConflicts_ThatOutlastTheInnerRetries_AreRescheduled_NotLeftUnsettled()
    {
        await StartAsync();
        h.AddUser("u-val", "val@contoso.com", "Val");
        h.TableWrites.FailNextWrites(6, status: 412); // every re-decision inside one delivery loses its row race

        await h.NotifyAsync("u-val");
        var settled = await h.DrainAsync();

        Assert.Equal(["complete", "complete"], settled.Select(s => s.Settlement!));
        Assert.Contains(h.Queue.Sent, m => m.MessageId.Contains("#r1", StringComparison.Ordinal));
        Assert.Single(h.TargetUsers());
        Assert.Equal(LifecycleState.Active, (await h.MappingAsync("u-val")).State);
    }

    [Fact]
    public async Task TableStorageRefusingAWrite_IsDeadLettered_WithAReason()
    {
        await StartAsync();
        h.AddUser("u-wes", "wes@contoso.com", "Wes");
        h.TableWrites.FailNextWrites(1, status: 400);

        await h.NotifyAsync("u-wes");
        var settled = await h.DrainAsync();

        var dead = Assert.Single(settled);
        Assert.Equal("deadletter", dead.Settlement);
        Assert.Equal(FailureReasons.StateRejected, dead.DeadLetterReason);
        Assert.Contains(FailureReasons.StateRejected, (await h.MappingAsync("u-wes")).LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LastAttempt_WhenTheErrorCannotBeStored_IsStillDeadLettered()
    {
        await StartAsync(sync: o => o.MaxAttempts = 1);
        await ProvisionAsync("u-xia", "xia@contoso.com");
        h.Graph.FailNext(503, count: 20, pathContains: "/users/u-xia");
        h.TableWrites.FailNextWrites(5); // Table Storage is down too: the error row cannot be written

        await h.NotifyAsync("u-xia");
        var settled = await h.DrainAsync();

        var dead = Assert.Single(settled);
        Assert.Equal("deadletter", dead.Settlement);
        Assert.Equal(FailureReasons.RetriesExhausted, dead.DeadLetterReason);
    }
}
