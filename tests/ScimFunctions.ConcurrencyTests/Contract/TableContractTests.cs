using Azure;
using Azure.Data.Tables;
using ScimFunctions.ConcurrencyTests.Seams;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.ConcurrencyTests.Contract;

/// <summary>One contract, two implementations: every check here runs against the in-memory table and against
/// Azurite, so the scenarios' Table Storage cannot drift from the real one's behaviour.</summary>
public abstract class TableContract
{
    protected abstract TableServiceClient Service { get; }

    private async Task<TableClient> NewTableAsync()
    {
        var table = Service.GetTableClient("C" + Guid.NewGuid().ToString("N")[..16]);
        await table.CreateIfNotExistsAsync();
        return table;
    }

    private static TableEntity Row(string pk, string rk, string? value = "v") => new(pk, rk) { ["Value"] = value };

    [Fact]
    public async Task InsertingAnExistingRowIs409()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(Row("p", "r"));
        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => table.AddEntityAsync(Row("p", "r")));
        Assert.Equal(409, ex.Status);
        Assert.Equal("EntityAlreadyExists", ex.ErrorCode);
    }

    [Fact]
    public async Task UpdateNeedsTheCurrentETagAndChangesIt()
    {
        var table = await NewTableAsync();
        var first = (await table.AddEntityAsync(Row("p", "r"))).Headers.ETag!.Value;
        var second = (await table.UpdateEntityAsync(Row("p", "r", "w"), first, TableUpdateMode.Replace)).Headers.ETag!.Value;
        Assert.NotEqual(first, second);
        var stale = await Assert.ThrowsAsync<RequestFailedException>(() => table.UpdateEntityAsync(Row("p", "r", "x"), first, TableUpdateMode.Replace));
        Assert.Equal(412, stale.Status);
        var read = await table.GetEntityIfExistsAsync<TableEntity>("p", "r");
        Assert.Equal("w", read.Value!.GetString("Value"));
        Assert.Equal(second, read.Value.ETag);
    }

    [Fact]
    public async Task UpdatingAMissingRowIs404()
    {
        var table = await NewTableAsync();
        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => table.UpdateEntityAsync(Row("p", "gone"), ETag.All, TableUpdateMode.Replace));
        Assert.Equal(404, ex.Status);
    }

    [Fact]
    public async Task DeleteHonoursIfMatchAndIgnoresAMissingRow()
    {
        var table = await NewTableAsync();
        var first = (await table.AddEntityAsync(Row("p", "r"))).Headers.ETag!.Value;
        await table.UpdateEntityAsync(Row("p", "r", "w"), first, TableUpdateMode.Replace);
        var stale = await Assert.ThrowsAsync<RequestFailedException>(() => table.DeleteEntityAsync("p", "r", first));
        Assert.Equal(412, stale.Status);
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>("p", "r")).HasValue);

        await table.DeleteEntityAsync("p", "r", ETag.All);
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>("p", "r")).HasValue);
        var again = await table.DeleteEntityAsync("p", "r", ETag.All);
        Assert.Equal(404, again.Status);
    }

    [Fact]
    public async Task UpsertReplaceDropsOldPropertiesAndNullsAreNotStored()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["A"] = "a", ["B"] = "b" });
        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["A"] = "a2", ["C"] = null }, TableUpdateMode.Replace);
        var read = (await table.GetEntityIfExistsAsync<TableEntity>("p", "r")).Value!;
        Assert.Equal("a2", read.GetString("A"));
        Assert.False(read.ContainsKey("B"));
        Assert.False(read.ContainsKey("C"));

        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["D"] = "d" }, TableUpdateMode.Merge);
        read = (await table.GetEntityIfExistsAsync<TableEntity>("p", "r")).Value!;
        Assert.Equal("a2", read.GetString("A"));
        Assert.Equal("d", read.GetString("D"));
    }

    [Fact]
    public async Task PropertyTypesRoundTrip()
    {
        var table = await NewTableAsync();
        var at = new DateTimeOffset(2026, 3, 2, 9, 30, 15, TimeSpan.Zero);
        await table.AddEntityAsync(new TableEntity("p", "r") { ["S"] = "text", ["I"] = 7, ["L"] = 1L << 40, ["D"] = 2.5, ["B"] = true, ["T"] = at });
        var read = (await table.GetEntityIfExistsAsync<TableEntity>("p", "r")).Value!;
        Assert.Equal("text", read.GetString("S"));
        Assert.Equal(7, read.GetInt32("I"));
        Assert.Equal(1L << 40, read.GetInt64("L"));
        Assert.Equal(2.5, read.GetDouble("D"));
        Assert.True(read.GetBoolean("B"));
        Assert.Equal(at, read.GetDateTimeOffset("T"));
    }

    [Fact]
    public async Task AQueryGoesOnAfterItsPageEndWhenRowsAroundItAreDeletedBetweenPages()
    {
        var table = await NewTableAsync();
        foreach (var pk in new[] { "a", "b", "c", "d", "e", "f" })
        {
            await table.AddEntityAsync(Row(pk, "user"));
        }

        var all = new List<string>();
        await foreach (var page in table.QueryAsync<TableEntity>(maxPerPage: 2).AsPages())
        {
            all.AddRange(page.Values.Select(e => e.PartitionKey));
            if (all.Count == 2)
            {
                // The page's last row and the next page's first row go before the next page is read.
                await table.DeleteEntityAsync("b", "user");
                await table.DeleteEntityAsync("c", "user");
            }
        }

        Assert.Equal(["a", "b", "d", "e", "f"], all);
    }

    [Fact]
    public async Task QueriesFilterPageInKeyOrderAndSeeWritesBetweenPages()
    {
        var table = await NewTableAsync();
        foreach (var (pk, rk, state) in new[] { ("b", "1", "Active"), ("a", "2", "Disabled"), ("a", "1", "Active"), ("c", "1", "Active"), ("d", "1", "Active") })
        {
            await table.AddEntityAsync(new TableEntity(pk, rk) { ["State"] = state });
        }

        var active = new List<string>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"State eq {"Active"}")))
        {
            active.Add(e.PartitionKey + e.RowKey);
        }

        Assert.Equal(["a1", "b1", "c1", "d1"], active);

        var both = new List<string>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"a"} and State eq {"Active"}")))
        {
            both.Add(e.PartitionKey + e.RowKey);
        }

        Assert.Equal(["a1"], both);

        var pages = 0;
        var all = new List<string>();
        await foreach (var page in table.QueryAsync<TableEntity>(maxPerPage: 2).AsPages())
        {
            pages++;
            all.AddRange(page.Values.Select(e => e.PartitionKey + e.RowKey));
            if (pages == 1)
            {
                // Written after the first page was read, ahead of where the query stands.
                await table.AddEntityAsync(new TableEntity("e", "1") { ["State"] = "Active" });
            }
        }

        Assert.Equal(["a1", "a2", "b1", "c1", "d1", "e1"], all);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task SelectReturnsOnlyTheNamedColumns()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["ScimId"] = "s", ["State"] = "Active", ["Projection"] = "big" });
        var rows = new List<TableEntity>();
        await foreach (var e in table.QueryAsync<TableEntity>(select: ["PartitionKey", "ScimId", "State"]))
        {
            rows.Add(e);
        }

        var row = Assert.Single(rows);
        Assert.Equal("p", row.PartitionKey);
        Assert.Equal("s", row.GetString("ScimId"));
        Assert.False(row.ContainsKey("Projection"));
    }

    [Fact]
    public async Task StateStoreTurnsLostRacesIntoStateConflicts()
    {
        var store = new StateStore(Service, "K" + Guid.NewGuid().ToString("N")[..10]);
        var first = await store.SaveUserAsync(new UserMapping("u1", "t1", "1", null, null, LifecycleState.Active, null, MappingOrigin.Created));
        await Assert.ThrowsAsync<StateConflictException>(() => store.SaveUserAsync(new UserMapping("u1", "t2", "1", null, null, LifecycleState.Active, null, MappingOrigin.Created)));
        var second = await store.SaveUserAsync(first with { State = LifecycleState.Disabled });
        await Assert.ThrowsAsync<StateConflictException>(() => store.SaveUserAsync(first with { ScimId = "t3" }));
        await Assert.ThrowsAsync<StateConflictException>(() => store.DeleteUserAsync(first));
        Assert.Equal(LifecycleState.Disabled, (await store.GetUserAsync("u1"))!.State);

        var keys = new List<UserKey>();
        await foreach (var key in store.ListUserKeysAsync())
        {
            keys.Add(key);
        }

        Assert.Equal([new UserKey("u1", "t1", LifecycleState.Disabled)], keys);
        Assert.Single(await store.FindUsersByScimIdAsync("t1"));
        await store.DeleteUserAsync(second);
        Assert.Null(await store.GetUserAsync("u1"));
    }
}

public sealed class InMemoryTableContractTests : TableContract
{
    protected override TableServiceClient Service { get; } = new InMemoryTableService();
}

[Collection(EngineCollection.Name)]
public sealed class AzuriteTableContractTests(AzuriteFixture azurite) : TableContract
{
    protected override TableServiceClient Service { get; } = new(azurite.ConnectionString, new TableClientOptions { Retry = { MaxRetries = 0 } });
}
