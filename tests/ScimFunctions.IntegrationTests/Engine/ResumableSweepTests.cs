using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>DeltaSweep on large tenants: MessageIds within Service Bus's limits for any id Graph may hand out, a
/// round stored page by page so that a run inside the Functions time limit always makes progress, and a killed
/// run that goes on from its last page.</summary>
[Collection(EngineCollection.Name)]
public sealed class ResumableSweepTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private EngineHarness h = null!;

    public async Task InitializeAsync() => h = await EngineHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await h.DisposeAsync();

    [Fact]
    public async Task Sweep_OfAnIdNear128Characters_QueuesItWithAMessageIdWithinTheServiceBusLimit()
    {
        // A safe object id may be 128 characters (Service Bus's SessionId limit); "d:{id}:{round}" then is not.
        var longId = "u-" + new string('a', 118);
        h.AddUser(longId, "long@contoso.com", "Long Id");
        h.AddUser("u-short", "short@contoso.com", "Short Id");

        await h.Sweeper.SweepAsync();

        var users = h.Queue.Sent.Where(m => m.SessionId is "u-short" || m.SessionId == longId).ToList();
        Assert.Equal(2, users.Count);
        // Room is left for the retry suffix "#rN" the processor appends.
        Assert.All(users, m => Assert.True(m.MessageId.Length <= GraphNotificationParser.MaxServiceBusIdLength - 8, $"MessageId of {m.MessageId.Length} characters"));
        Assert.Equal(2, users.Select(m => m.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task InitialLoadOf100000Users_RunsInsideTheBudget_AndAKilledRunGoesOnFromItsLastPage()
    {
        const int users = 100_000;
        const int pageSize = 1_000;
        var pageTime = TimeSpan.FromSeconds(5);
        for (var i = 0; i < users; i++)
        {
            h.Graph.AddUser($"u-{i:000000}", $"user{i:000000}@contoso.com", $"User {i:000000}");
        }

        h.Graph.DeltaPageSize = pageSize;
        var pagesRead = 0;
        var killAtPage = 0;
        h.Graph.OnRequest = r =>
        {
            if (r.Path.Contains("/users/delta", StringComparison.Ordinal))
            {
                // Each Graph page "takes" 5 s of the fake clock; the run's time is nothing but that.
                h.Time.Advance(pageTime);
                if (Interlocked.Increment(ref pagesRead) == killAtPage)
                {
                    // The host dies after this page's items are queued, before its checkpoint is stored: the
                    // next write (the page's ids, then the checkpoint) never reaches Table Storage.
                    h.TableWrites.FailNextWrites(1);
                }
            }
        };

        // Without target hints (their rows are another test's subject): one user item per Graph user.
        var sweeper = new DeltaSweeper(h.Store, h.Directory, h.WorkQueue, h.Options, h.Time, NullLogger.Instance);
        var budget = TimeSpan.FromSeconds(h.Options.TimerBudgetSeconds);
        var limit = TimeSpan.FromMinutes(5); // host.json functionTimeout

        async Task<(SweepResult? Result, TimeSpan Took, int Pages)> RunAsync()
        {
            var (start, pagesBefore) = (h.Time.GetUtcNow(), pagesRead);
            SweepResult? result = null;
            try
            {
                result = await sweeper.SweepAsync();
            }
            catch (RequestFailedException)
            {
                // The killed run.
            }

            return (result, h.Time.GetUtcNow() - start, pagesRead - pagesBefore);
        }

        var first = await RunAsync();
        Assert.True(first.Result!.UsersPending);
        Assert.Equal(36, first.Pages); // 180 s of budget at 5 s a page
        Assert.Equal(36 * pageSize, h.Queue.Sent.Count);

        killAtPage = 50;
        var killed = await RunAsync();
        Assert.Null(killed.Result);
        Assert.Equal(14, killed.Pages);
        Assert.Equal(50 * pageSize, h.Queue.Sent.Count);

        var runs = new List<(SweepResult? Result, TimeSpan Took, int Pages)> { first, killed };
        do
        {
            runs.Add(await RunAsync());
        }
        while (runs[^1].Result!.UsersPending && runs.Count < 10);

        Assert.False(runs[^1].Result!.UsersPending);
        Assert.Equal(4, runs.Count);

        // No run came near the Functions limit: each stopped at its budget, with at most the page in flight over it.
        Assert.All(runs, r => Assert.True(r.Took <= budget + pageTime && r.Took < limit, $"a run took {r.Took} of the fake clock"));

        // Graph pages: the 100 of the round, plus the one page whose checkpoint the kill lost, read again.
        Assert.Equal(users / pageSize + 1, pagesRead);

        // Messages: one per user, plus that one page queued again under the same MessageIds, which duplicate
        // detection drops; nothing else was queued twice.
        Assert.Equal(users + pageSize, h.Queue.Sent.Count);
        Assert.Equal(pageSize, h.Queue.DuplicatesDropped);
        Assert.Equal(users, h.Queue.Sent.Select(m => m.MessageId).Distinct().Count());
        Assert.Equal(users, h.Queue.Sent.Select(m => m.SessionId).Distinct().Count());

        // The round is complete: the cursor is stored, the checkpoint is gone.
        var cursor = await h.Store.GetCursorAsync(DeltaSweeper.UsersCursor);
        Assert.Contains("$deltatoken=", cursor.Link, StringComparison.Ordinal);
        Assert.NotNull(cursor.LastFullResyncAt);
        Assert.Null(await new SweepCheckpoints(h.Store).GetAsync(DeltaSweeper.UsersCursor));

        // The next run is an incremental round from that cursor: one page, nothing to queue.
        var sent = h.Queue.Sent.Count;
        var next = await RunAsync();
        Assert.False(next.Result!.UsersPending);
        Assert.Equal(1, next.Pages);
        Assert.Equal(sent, h.Queue.Sent.Count);
    }
}
