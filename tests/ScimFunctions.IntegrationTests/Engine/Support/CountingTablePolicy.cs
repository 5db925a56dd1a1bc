using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ScimFunctions.IntegrationTests.Engine.Support;

/// <summary>Counts Table Storage entity writes (insert, update, upsert, delete; table creation excluded) and all
/// entity requests (reads too), and can fail the next writes, to simulate a crash between the SCIM write and
/// the mapping write.</summary>
public sealed class CountingTablePolicy : HttpPipelinePolicy
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> writesByTable = new(StringComparer.Ordinal);
    private long writes;
    private long requests;
    private int failNext;
    private string? failTable;
    private int failTableNext;
    private int failStatus = 503;

    public long Writes => Interlocked.Read(ref writes);

    /// <summary>Entity requests of any kind (point reads, query pages, writes); table creation excluded.</summary>
    public long Requests => Interlocked.Read(ref requests);

    /// <summary>The next <paramref name="count"/> entity writes fail with <paramref name="status"/> (503 unless
    /// told: 412 is a lost ETag race, 400 a value Table Storage refuses) before reaching Azurite.</summary>
    public void FailNextWrites(int count, int status = 503)
    {
        Interlocked.Exchange(ref failStatus, status);
        Interlocked.Exchange(ref failNext, count);
    }

    /// <summary>The next <paramref name="count"/> entity writes to <paramref name="table"/> only fail with 503.</summary>
    public void FailNextWritesTo(string table, int count)
    {
        Volatile.Write(ref failTable, table);
        Interlocked.Exchange(ref failTableNext, count);
    }

    /// <summary>Entity writes to one table (a batch transaction counts once, under the table it is sent to).</summary>
    public long WritesTo(string table) => writesByTable.GetValueOrDefault(table);

    public void Reset()
    {
        Interlocked.Exchange(ref writes, 0);
        Interlocked.Exchange(ref requests, 0);
        writesByTable.Clear();
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (Count(message))
        {
            return;
        }

        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (Count(message))
        {
            return ValueTask.CompletedTask;
        }

        return ProcessNextAsync(message, pipeline);
    }

    /// <summary>The table of an entity request: <c>/account/Table(PartitionKey='…',RowKey='…')</c> or <c>/account/Table</c>.</summary>
    private static string TableOf(string path)
    {
        var segment = path.TrimEnd('/');
        segment = segment[(segment.LastIndexOf('/') + 1)..];
        segment = Uri.UnescapeDataString(segment);
        var paren = segment.IndexOf('(', StringComparison.Ordinal);
        return paren < 0 ? segment : segment[..paren];
    }

    private bool Count(HttpMessage message)
    {
        var method = message.Request.Method;
        var path = message.Request.Uri.Path;
        var isTableCreate = method == RequestMethod.Post && path.EndsWith("/Tables", StringComparison.OrdinalIgnoreCase);
        if (!isTableCreate)
        {
            Interlocked.Increment(ref requests);
        }

        if (method == RequestMethod.Get || isTableCreate)
        {
            return false;
        }

        if (Interlocked.Decrement(ref failNext) >= 0)
        {
            throw new RequestFailedException(Volatile.Read(ref failStatus), "Injected Table Storage failure (test).");
        }

        Interlocked.Exchange(ref failNext, 0);
        var table = TableOf(path);
        if (table == Volatile.Read(ref failTable) && Interlocked.Decrement(ref failTableNext) >= 0)
        {
            throw new RequestFailedException(503, "Injected Table Storage failure of one table (test).");
        }

        Interlocked.Increment(ref writes);
        writesByTable.AddOrUpdate(table, 1, (_, n) => n + 1);
        return false;
    }
}
