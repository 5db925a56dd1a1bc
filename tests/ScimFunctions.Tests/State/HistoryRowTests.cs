using Azure.Data.Tables;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;
using ScimFunctions.Provisioning.Sync.History;
using ScimFunctions.Tests.Scim;

namespace ScimFunctions.Tests.State;

/// <summary>The audit table's row format (keys that sort newest first and never collide, ids only), the mapping
/// from outcomes to rows, and the correlation ids the SCIM pipeline keeps per convergence.</summary>
public sealed class HistoryRowTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RowKeys_SortNewestFirst_AsStrings()
    {
        var times = new[] { T0, T0.AddTicks(1), T0.AddSeconds(1), T0.AddDays(-400), T0.AddYears(30), DateTimeOffset.UnixEpoch };
        var keys = times.Select(t => HistoryStore.RowKeyFor(t, "0000000000000000")).ToList();

        var byKey = keys.Order(StringComparer.Ordinal).Select(k => HistoryStore.TimeOf(k)!.Value).ToList();

        Assert.Equal(times.OrderDescending().ToList(), byKey);
        Assert.All(keys, k => Assert.Equal(19 + 1 + 16, k.Length));
    }

    [Fact]
    public void RowKeys_InTheSameTick_SortTheLaterWriteFirst_AndNeverCollide()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => HistoryStore.RowKeyFor(T0, HistoryStore.NewSuffix())).ToList();

        Assert.Equal(keys.AsEnumerable().Reverse(), keys.Order(StringComparer.Ordinal));
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
        Assert.All(keys, k => Assert.Equal(T0, HistoryStore.TimeOf(k)));
    }

    [Fact]
    public void RowKey_RoundTripsItsTime_AndRejectsForeignKeys()
    {
        var at = T0.AddTicks(1234567);

        Assert.Equal(at, HistoryStore.TimeOf(HistoryStore.RowKeyFor(at, "abcdef0123456789")));
        Assert.Null(HistoryStore.TimeOf("user"));
        Assert.Null(HistoryStore.TimeOf("12345678901234567890123"));
        Assert.Null(HistoryStore.TimeOf("99999999999999999999-x"));
    }

    [Fact]
    public void Entity_HoldsIdsCodesAndPaths_AndReadsBack()
    {
        var entry = new HistoryEntry("3f0c1a2b-0000-4000-8000-000000000001", T0, HistoryAction.Updated, HistoryTrigger.Sweep, "changed: title, department",
            ["title", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"], CorrelationIds: ["c-1", "c-2"]);

        var entity = HistoryStore.ToEntity(entry, HistoryStore.RowKeyFor(T0, "0123456789abcdef"));
        var back = HistoryStore.FromEntity(entity);

        Assert.Equal(entry.ObjectId, entity.PartitionKey);
        Assert.Equal(["Action", "At", "Attributes", "CorrelationIds", "GroupId", "Reason", "TargetGroupId", "Trigger"],
            entity.Keys.Where(k => k is not ("PartitionKey" or "RowKey" or "odata.etag" or "Timestamp")).Order(StringComparer.Ordinal));
        Assert.Equal(entry with { RowKey = entity.RowKey }, back with { Attributes = entry.Attributes, CorrelationIds = entry.CorrelationIds });
        Assert.Equal(entry.Attributes, back.Attributes);
        Assert.Equal(entry.CorrelationIds, back.CorrelationIds);
    }

    [Fact]
    public void Entity_CutsALongReason_AndKeepsABoundedNumberOfCorrelationIds()
    {
        var entry = new HistoryEntry("u-1", T0, HistoryAction.Failed, HistoryTrigger.Notification, new string('x', 5000),
            CorrelationIds: Enumerable.Range(0, 20).Select(i => $"c-{i}").ToList());

        var back = HistoryStore.FromEntity(HistoryStore.ToEntity(entry, HistoryStore.RowKeyFor(T0, "0123456789abcdef")));

        Assert.Equal(HistoryStore.MaxReasonLength, back.Reason!.Length);
        Assert.Equal(HistoryStore.MaxCorrelationIds, back.CorrelationIds!.Count);
    }

    [Fact]
    public void Entity_RefusesAnUnsafeObjectId()
    {
        var entry = new HistoryEntry("users/../x", T0, HistoryAction.Created, HistoryTrigger.Operator);

        var error = Assert.Throws<ArgumentException>(() => HistoryStore.ToEntity(entry, "k"));
        Assert.Contains("user object id", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PlanAction.Create, HistoryAction.Created)]
    [InlineData(PlanAction.Adopt, HistoryAction.Adopted)]
    [InlineData(PlanAction.Update, HistoryAction.Updated)]
    [InlineData(PlanAction.Reactivate, HistoryAction.Reactivated)]
    [InlineData(PlanAction.Disable, HistoryAction.Disabled)]
    [InlineData(PlanAction.Delete, HistoryAction.Deleted)]
    [InlineData(PlanAction.Recreate, HistoryAction.Recreated)]
    [InlineData(PlanAction.Stage, HistoryAction.Staged)]
    public void Outcome_ThatChangedSomething_IsOneRow(PlanAction planAction, HistoryAction expected)
    {
        var decision = new UserDecision(true, null, null, null, ["title"], [], null);
        var outcome = new UserOutcome("u-1", planAction, [new PlannedOperation(ObjectKind.User, "u-1", planAction, "because", "title")], [], decision);

        var entry = HistoryRecorder.Entry(outcome, HistoryTrigger.Notification, ["c-9"], T0);

        Assert.NotNull(entry);
        Assert.Equal(expected, entry.Action);
        Assert.Equal("because", entry.Reason);
        Assert.Equal(["c-9"], entry.CorrelationIds);
        Assert.Equal(T0, entry.At);
        Assert.Equal(expected is HistoryAction.Updated or HistoryAction.Reactivated or HistoryAction.Adopted or HistoryAction.Disabled ? ["title"] : null, entry.Attributes);
    }

    [Theory]
    [InlineData(PlanAction.None)]
    [InlineData(PlanAction.Skip)]
    public void Outcome_ThatChangedNothing_IsNoRow(PlanAction planAction)
    {
        var outcome = new UserOutcome("u-1", planAction, [new PlannedOperation(ObjectKind.User, "u-1", planAction, "mapped attributes unchanged")], [], null);

        Assert.Null(HistoryRecorder.Entry(outcome, HistoryTrigger.Sweep, [], T0));
    }

    [Theory]
    [InlineData("webhook", HistoryTrigger.Notification)]
    [InlineData("delta", HistoryTrigger.Sweep)]
    [InlineData("cli", HistoryTrigger.Operator)]
    [InlineData("replay", HistoryTrigger.Replay)]
    [InlineData("followup", HistoryTrigger.FollowUp)]
    public void WorkItemSource_NamesTheTrigger(string source, HistoryTrigger expected)
    {
        var item = new ScimFunctions.Provisioning.Notifications.WorkItem(ScimFunctions.Provisioning.Notifications.WorkItemKind.User, "u-1", "updated", null, null, T0, source);

        Assert.Equal(expected, HistoryRecorder.TriggerOf(item));
    }

    [Fact]
    public async Task CorrelationHandler_KeepsWriteIds_PerScope_EvenInParallel()
    {
        var stub = new StubHandler((request, _) =>
        {
            var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK);
            response.Headers.TryAddWithoutValidation(ScimHeaders.GenesysCorrelationId, $"{request.Method.Method}-{request.RequestUri!.AbsolutePath.TrimStart('/')}");
            return response;
        });
        using var http = new HttpClient(new ScimCorrelationHandler { InnerHandler = stub }) { BaseAddress = new Uri("https://scim.example/") };

        async Task<IReadOnlyList<string>> OneObject(string name)
        {
            using var scope = ScimCorrelationScope.Begin();
            await Task.Yield();
            (await http.GetAsync(new Uri(name, UriKind.Relative))).Dispose();
            (await http.PatchAsync(new Uri(name, UriKind.Relative), new StringContent("{}"))).Dispose();
            (await http.DeleteAsync(new Uri(name, UriKind.Relative))).Dispose();
            return scope.Ids;
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => OneObject($"u{i}")));

        for (var i = 0; i < 8; i++)
        {
            Assert.Equal([$"PATCH-u{i}", $"DELETE-u{i}"], results[i]);
        }

        // Outside any scope nothing is kept (and nothing fails).
        (await http.PostAsync(new Uri("loose", UriKind.Relative), new StringContent("{}"))).Dispose();
    }

    [Fact]
    public async Task CorrelationHandler_IgnoresAHeaderThatIsNotAnId()
    {
        var stub = new StubHandler((_, _) =>
        {
            var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK);
            response.Headers.TryAddWithoutValidation(ScimHeaders.GenesysCorrelationId, new string('a', 500));
            return response;
        });
        using var http = new HttpClient(new ScimCorrelationHandler { InnerHandler = stub }) { BaseAddress = new Uri("https://scim.example/") };
        using var scope = ScimCorrelationScope.Begin();

        (await http.PostAsync(new Uri("users", UriKind.Relative), new StringContent("{}"))).Dispose();

        Assert.Empty(scope.Ids);
    }
}
