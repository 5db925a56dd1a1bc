using System.Globalization;
using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Data.Tables.Models;

namespace ScimFunctions.ConcurrencyTests.Seams;

/// <summary>One Table Storage operation, as the seam sees it before running it.</summary>
public sealed record TableOperation(string Table, string Kind, string? PartitionKey, string? RowKey);

/// <summary>Table Storage in memory, behind the SDK's own <see cref="TableServiceClient"/> and
/// <see cref="TableClient"/> (their members are virtual for exactly this), so <c>StateStore</c> runs
/// unchanged. What it keeps of the service: an ETag per row that changes on every write; insert 409
/// (EntityAlreadyExists); update and delete with If-Match 412 (UpdateConditionNotSatisfied); update of a
/// missing row 404; delete of a missing row answered 404 and swallowed as the SDK does; null properties
/// not stored; rows in PartitionKey/RowKey order; queries paged and read page by page (a write between
/// pages is seen by the later pages); <c>select</c>. Filters: <c>eq</c> clauses joined by <c>and</c>, the
/// only kind the engine builds; anything else throws. The contract suite runs the same checks here and
/// against Azurite.</summary>
public sealed class InMemoryTableService : TableServiceClient
{
    private readonly Dictionary<string, InMemoryTableClient> _tables = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _etag;

    /// <summary>Runs before every operation: the scheduler's yield point, and where faults are injected
    /// (throw to fail the operation before it reaches the table).</summary>
    public Func<TableOperation, ValueTask>? BeforeOperation { get; set; }

    /// <summary>Runs after an operation succeeded: a crash here is "the write happened, the caller never heard".</summary>
    public Func<TableOperation, ValueTask>? AfterOperation { get; set; }

    public long Operations { get; private set; }

    public override TableClient GetTableClient(string tableName)
    {
        lock (_gate)
        {
            if (!_tables.TryGetValue(tableName, out var table))
            {
                table = new InMemoryTableClient(this, tableName);
                _tables[tableName] = table;
            }

            return table;
        }
    }

    /// <summary>Every row of a table, for invariant checks (no seam hooks).</summary>
    public IReadOnlyList<TableEntity> Rows(string tableName) =>
        ((InMemoryTableClient)GetTableClient(tableName)).Snapshot();

    internal ETag NextETag() => new($"W/\"{Interlocked.Increment(ref _etag).ToString(CultureInfo.InvariantCulture)}\"");

    internal async ValueTask BeforeAsync(TableOperation operation)
    {
        lock (_gate)
        {
            Operations++;
        }

        if (BeforeOperation is { } hook)
        {
            await hook(operation);
        }
    }

    internal async ValueTask AfterAsync(TableOperation operation)
    {
        if (AfterOperation is { } hook)
        {
            await hook(operation);
        }
    }
}

public sealed class InMemoryTableClient : TableClient
{
    private readonly InMemoryTableService _service;
    // Rows by key, and their keys in PartitionKey/RowKey order: a page seeks its start instead of walking every
    // row before it, so a full scan of 100,000 rows costs what the service's pages cost, not n² / page size.
    private readonly Dictionary<(string Pk, string Rk), TableEntity> _rows = [];
    private readonly SortedSet<(string Pk, string Rk)> _order = new(RowOrder.Instance);
    private readonly Lock _gate = new();
    private bool _created;

    internal InMemoryTableClient(InMemoryTableService service, string name)
    {
        _service = service;
        TableName = name;
    }

    public string TableName { get; }

    public override string Name => TableName;

    internal IReadOnlyList<TableEntity> Snapshot()
    {
        lock (_gate)
        {
            return _order.Select(key => Copy(_rows[key])).ToList();
        }
    }

    public override async Task<Response<TableItem>> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        await _service.BeforeAsync(new TableOperation(TableName, "create-table", null, null));
        lock (_gate)
        {
            var status = _created ? 409 : 204;
            _created = true;
            return Response.FromValue(TableModelFactory.TableItem(TableName, null, null, null), new FakeResponse(status, default));
        }
    }

    public override async Task<NullableResponse<T>> GetEntityIfExistsAsync<T>(string partitionKey, string rowKey, IEnumerable<string>? select = null, CancellationToken cancellationToken = default)
    {
        var op = new TableOperation(TableName, "get", partitionKey, rowKey);
        await _service.BeforeAsync(op);
        TableEntity? found;
        lock (_gate)
        {
            EnsureCreated();
            found = _rows.TryGetValue((partitionKey, rowKey), out var row) ? Project(row, select?.ToList()) : null;
        }

        await _service.AfterAsync(op);
        return new FakeNullableResponse<T>(found is null ? null : As<T>(found));
    }

    public override async Task<Response> AddEntityAsync<T>(T entity, CancellationToken cancellationToken = default)
    {
        var op = new TableOperation(TableName, "add", entity.PartitionKey, entity.RowKey);
        await _service.BeforeAsync(op);
        Response response;
        lock (_gate)
        {
            EnsureCreated();
            var key = (entity.PartitionKey, entity.RowKey);
            if (_rows.ContainsKey(key))
            {
                throw new RequestFailedException(409, "The specified entity already exists.", "EntityAlreadyExists", null);
            }

            response = Store(key, entity);
        }

        await _service.AfterAsync(op);
        return response;
    }

    public override async Task<Response> UpdateEntityAsync<T>(T entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        var op = new TableOperation(TableName, "update", entity.PartitionKey, entity.RowKey);
        await _service.BeforeAsync(op);
        Response response;
        lock (_gate)
        {
            EnsureCreated();
            var key = (entity.PartitionKey, entity.RowKey);
            if (!_rows.TryGetValue(key, out var existing))
            {
                throw new RequestFailedException(404, "The specified resource does not exist.", "ResourceNotFound", null);
            }

            if (ifMatch != ETag.All && ifMatch != existing.ETag)
            {
                throw new RequestFailedException(412, "The update condition specified in the request was not satisfied.", "UpdateConditionNotSatisfied", null);
            }

            response = Store(key, mode == TableUpdateMode.Merge ? Merge(existing, entity) : entity);
        }

        await _service.AfterAsync(op);
        return response;
    }

    public override async Task<Response> UpsertEntityAsync<T>(T entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        var op = new TableOperation(TableName, "upsert", entity.PartitionKey, entity.RowKey);
        await _service.BeforeAsync(op);
        Response response;
        lock (_gate)
        {
            EnsureCreated();
            var key = (entity.PartitionKey, entity.RowKey);
            response = Store(key, mode == TableUpdateMode.Merge && _rows.TryGetValue(key, out var existing) ? Merge(existing, entity) : entity);
        }

        await _service.AfterAsync(op);
        return response;
    }

    public override async Task<Response> DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch = default, CancellationToken cancellationToken = default)
    {
        var op = new TableOperation(TableName, "delete", partitionKey, rowKey);
        await _service.BeforeAsync(op);
        Response response;
        lock (_gate)
        {
            EnsureCreated();
            if (!_rows.TryGetValue((partitionKey, rowKey), out var existing))
            {
                // The SDK turns the service's 404 into a plain response: deleting what is gone is not an error.
                response = new FakeResponse(404, default);
            }
            else if (ifMatch != default && ifMatch != ETag.All && ifMatch != existing.ETag)
            {
                throw new RequestFailedException(412, "The update condition specified in the request was not satisfied.", "UpdateConditionNotSatisfied", null);
            }
            else
            {
                _rows.Remove((partitionKey, rowKey));
                _order.Remove((partitionKey, rowKey));
                response = new FakeResponse(204, default);
            }
        }

        await _service.AfterAsync(op);
        return response;
    }

    public override AsyncPageable<T> QueryAsync<T>(string? filter = null, int? maxPerPage = null, IEnumerable<string>? select = null, CancellationToken cancellationToken = default)
    {
        var predicate = ODataFilter.Parse(filter);
        var columns = select?.ToList();
        return new PagedQuery<T>(this, predicate, Math.Clamp(maxPerPage ?? 1000, 1, 1000), columns);
    }

    private sealed class PagedQuery<T>(InMemoryTableClient table, Func<TableEntity, bool> predicate, int pageSize, List<string>? select) : AsyncPageable<T>
        where T : notnull
    {
        public override async IAsyncEnumerable<Page<T>> AsPages(string? continuationToken = null, int? pageSizeHint = null)
        {
            var after = continuationToken;
            while (true)
            {
                // Each page is its own request, as against the service: later pages see writes made meanwhile.
                await table._service.BeforeAsync(new TableOperation(table.TableName, "query", null, null));
                List<T> values;
                string? next;
                lock (table._gate)
                {
                    table.EnsureCreated();
                    var rows = table.KeysAfter(after is null ? null : Key(after)).Select(key => table._rows[key]).Where(predicate).Take(pageSize + 1).ToList();
                    next = rows.Count > pageSize ? Token((rows[pageSize - 1].PartitionKey, rows[pageSize - 1].RowKey)) : null;
                    values = rows.Take(pageSize).Select(r => As<T>(Project(r, select))).ToList();
                }

                yield return Page<T>.FromValues(values, next, new FakeResponse(200, default));
                if (next is null)
                {
                    yield break;
                }

                after = next;
            }
        }

        private static string Token((string Pk, string Rk) key) => key.Pk + "\u0001" + key.Rk;

        private static (string Pk, string Rk) Key(string token) =>
            token.IndexOf('\u0001', StringComparison.Ordinal) is var cut and >= 0 ? (token[..cut], token[(cut + 1)..]) : (token, "");
    }

    private IEnumerable<(string Pk, string Rk)> KeysAfter((string Pk, string Rk)? after)
    {
        if (after is not { } from)
        {
            return _order;
        }

        return _order.Count == 0 || RowOrder.Instance.Compare(from, _order.Max) >= 0
            ? []
            : _order.GetViewBetween(from, _order.Max).Where(key => RowOrder.Instance.Compare(key, from) > 0);
    }

    private void EnsureCreated()
    {
        if (!_created)
        {
            throw new RequestFailedException(404, $"The table {TableName} does not exist.", "TableNotFound", null);
        }
    }

    private FakeResponse Store((string, string) key, ITableEntity entity)
    {
        var copy = Copy(entity);
        copy.ETag = _service.NextETag();
        copy.Timestamp = DateTimeOffset.UtcNow;
        _rows[key] = copy;
        _order.Add(key);
        return new FakeResponse(204, copy.ETag);
    }

    private static TableEntity Merge(TableEntity existing, ITableEntity update)
    {
        var merged = Copy(existing);
        foreach (var (name, value) in Copy(update))
        {
            merged[name] = value;
        }

        return merged;
    }

    private static TableEntity Copy(ITableEntity entity)
    {
        if (entity is not TableEntity source)
        {
            throw new NotSupportedException($"The in-memory table stores TableEntity only, not {entity.GetType().Name}.");
        }

        var copy = new TableEntity(source.PartitionKey, source.RowKey) { ETag = source.ETag, Timestamp = source.Timestamp };
        foreach (var (name, value) in source)
        {
            // The service does not store null properties, and keeps the system ones apart.
            if (value is not null && name is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"))
            {
                copy[name] = value;
            }
        }

        return copy;
    }

    private static TableEntity Project(TableEntity row, List<string>? select)
    {
        if (select is null)
        {
            return Copy(row);
        }

        var projected = new TableEntity(select.Contains("PartitionKey") ? row.PartitionKey : null!, select.Contains("RowKey") ? row.RowKey : null!) { ETag = row.ETag };
        foreach (var name in select.Where(n => n is not ("PartitionKey" or "RowKey")))
        {
            if (row.TryGetValue(name, out var value) && value is not null)
            {
                projected[name] = value;
            }
        }

        return projected;
    }

    private static T As<T>(TableEntity entity) =>
        entity is T typed ? typed : throw new NotSupportedException($"The in-memory table returns TableEntity only, not {typeof(T).Name}.");

    private sealed class RowOrder : IComparer<(string Pk, string Rk)>
    {
        public static readonly RowOrder Instance = new();

        public int Compare((string Pk, string Rk) x, (string Pk, string Rk) y)
        {
            var pk = string.CompareOrdinal(x.Pk, y.Pk);
            return pk != 0 ? pk : string.CompareOrdinal(x.Rk, y.Rk);
        }
    }
}

/// <summary>The <c>eq … and eq …</c> subset of OData filters that <c>TableClient.CreateQueryFilter</c> produces for the engine.</summary>
public static class ODataFilter
{
    public static Func<TableEntity, bool> Parse(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return _ => true;
        }

        var clauses = SplitAnd(filter).Select(ParseClause).ToList();
        return e => clauses.All(c => c(e));
    }

    private static IEnumerable<string> SplitAnd(string filter)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < filter.Length; i++)
        {
            if (filter[i] == '\'')
            {
                quoted = !quoted;
            }
            else if (!quoted && string.CompareOrdinal(filter, i, " and ", 0, 5) == 0)
            {
                yield return filter[start..i];
                start = i + 5;
                i += 4;
            }
        }

        yield return filter[start..];
    }

    private static Func<TableEntity, bool> ParseClause(string clause)
    {
        var text = clause.Trim();
        if (text.StartsWith('(') && text.EndsWith(')'))
        {
            text = text[1..^1].Trim();
        }

        var at = text.IndexOf(" eq ", StringComparison.Ordinal);
        if (at <= 0)
        {
            throw new NotSupportedException($"The in-memory table supports only 'Name eq value' filter clauses, not '{clause}'.");
        }

        var name = text[..at].Trim();
        var literal = text[(at + 4)..].Trim();
        if (literal.Length >= 2 && literal[0] == '\'' && literal[^1] == '\'')
        {
            var value = literal[1..^1].Replace("''", "'", StringComparison.Ordinal);
            return e => string.Equals(Read(e, name) as string, value, StringComparison.Ordinal);
        }

        if (bool.TryParse(literal, out var flag))
        {
            return e => Read(e, name) is bool b && b == flag;
        }

        throw new NotSupportedException($"The in-memory table supports string and boolean filter values, not '{literal}'.");
    }

    private static object? Read(TableEntity entity, string name) => name switch
    {
        "PartitionKey" => entity.PartitionKey,
        "RowKey" => entity.RowKey,
        _ => entity.TryGetValue(name, out var value) ? value : null,
    };
}

/// <summary>A service response with a status and an ETag header.</summary>
public sealed class FakeResponse(int status, ETag etag) : Response
{
    public override int Status => status;

    public override string ReasonPhrase => status.ToString(CultureInfo.InvariantCulture);

    public override Stream? ContentStream { get; set; }

    public override string ClientRequestId { get; set; } = "";

    public override void Dispose()
    {
    }

    protected override bool ContainsHeader(string name) => TryGetHeader(name, out _);

    protected override IEnumerable<HttpHeader> EnumerateHeaders() =>
        etag == default ? [] : [new HttpHeader("ETag", etag.ToString())];

    protected override bool TryGetHeader(string name, out string value)
    {
        if (etag != default && name.Equals("ETag", StringComparison.OrdinalIgnoreCase))
        {
            value = etag.ToString();
            return true;
        }

        value = null!;
        return false;
    }

    protected override bool TryGetHeaderValues(string name, out IEnumerable<string> values)
    {
        var found = TryGetHeader(name, out var value);
        values = found ? [value] : [];
        return found;
    }
}

public sealed class FakeNullableResponse<T>(T? value) : NullableResponse<T>
{
    public override bool HasValue => value is not null;

    public override T? Value => value;

    public override Response GetRawResponse() => new FakeResponse(value is null ? 404 : 200, default);
}
