namespace ScimFunctions.Provisioning.Scim;

/// <summary>What one process knows about its target, shared by every client instance and handler:
/// request counters and (scim profile) what the server's ServiceProviderConfig says it supports.</summary>
public sealed class ScimTargetState : IDisposable
{
    private readonly SemaphoreSlim discovery = new(1, 1);
    private long requests;
    private long writes;
    private long throttled;
    private long retries;
    private volatile bool etagHeaderSeen;
    private volatile ScimServiceProviderConfig? config;

    public void Dispose() => discovery.Dispose();

    public ScimRequestCounts Counts => new(
        Interlocked.Read(ref requests), Interlocked.Read(ref writes), Interlocked.Read(ref throttled), Interlocked.Read(ref retries));

    /// <summary>ServiceProviderConfig said <c>etag.supported</c> true; or it said nothing usable about ETags and a
    /// response carried an ETag header. An explicit false is taken at its word, headers or not.</summary>
    public bool ETagsOffered => config?.ETag ?? etagHeaderSeen;

    /// <summary>What the target's ServiceProviderConfig said (scim profile), once read; null before.</summary>
    public ScimServiceProviderConfig? ServiceProviderConfig => config;

    internal bool Discovered => config is not null;

    internal void CountRequest(HttpMethod method)
    {
        Interlocked.Increment(ref requests);
        if (method != HttpMethod.Get && method != HttpMethod.Head)
        {
            Interlocked.Increment(ref writes);
        }
    }

    internal void CountThrottled() => Interlocked.Increment(ref throttled);

    internal void CountRetry() => Interlocked.Increment(ref retries);

    internal void ObserveETagHeader() => etagHeaderSeen = true;

    internal void RecordServiceProviderConfig(ScimServiceProviderConfig found) => config = found;

    /// <summary>Serialises the one-time ServiceProviderConfig read.</summary>
    internal async Task<IDisposable> EnterDiscoveryAsync(CancellationToken cancellationToken)
    {
        await discovery.WaitAsync(cancellationToken);
        return new Releaser(discovery);
    }

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        public void Dispose() => semaphore.Release();
    }
}
