using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ScimFunctions.IntegrationTests.Engine.Support;

/// <summary>Counts Table Storage entity writes (insert, update, upsert, delete; table creation excluded) and all
/// entity requests (reads too), and can fail the next writes, to simulate a crash between the SCIM write and
/// the mapping write.</summary>
public sealed class CountingTablePolicy : HttpPipelinePolicy
{
    private long writes;
    private long requests;
    private int failNext;
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

    public void Reset()
    {
        Interlocked.Exchange(ref writes, 0);
        Interlocked.Exchange(ref requests, 0);
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
        Interlocked.Increment(ref writes);
        return false;
    }
}
