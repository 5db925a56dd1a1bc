using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ScimFunctions.IntegrationTests.Engine.Support;

/// <summary>Counts Table Storage entity writes (insert, update, upsert, delete; table creation excluded) and
/// can fail the next ones, to simulate a crash between the SCIM write and the mapping write.</summary>
public sealed class CountingTablePolicy : HttpPipelinePolicy
{
    private long writes;
    private int failNext;

    public long Writes => Interlocked.Read(ref writes);

    /// <summary>The next <paramref name="count"/> entity writes fail with 503 before reaching Azurite.</summary>
    public void FailNextWrites(int count) => Interlocked.Exchange(ref failNext, count);

    public void Reset() => Interlocked.Exchange(ref writes, 0);

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
        if (method == RequestMethod.Get || isTableCreate)
        {
            return false;
        }

        if (Interlocked.Decrement(ref failNext) >= 0)
        {
            throw new RequestFailedException(503, "Injected Table Storage failure (test).");
        }

        Interlocked.Exchange(ref failNext, 0);
        Interlocked.Increment(ref writes);
        return false;
    }
}
