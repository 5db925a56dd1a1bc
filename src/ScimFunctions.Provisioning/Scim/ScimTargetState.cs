namespace ScimFunctions.Provisioning.Scim;

/// <summary>What one process knows about its target, shared by every client instance and handler:
/// request counters and (scim profile) whether the server offers ETags.</summary>
public sealed class ScimTargetState : IDisposable
{
    private readonly SemaphoreSlim discovery = new(1, 1);
    private long requests;
    private long writes;
    private long throttled;
    private long retries;
    private volatile bool etagHeaderSeen;
    private volatile bool etagOffered;
    private volatile bool discovered;

    public void Dispose() => discovery.Dispose();

    public ScimRequestCounts Counts => new(
        Interlocked.Read(ref requests), Interlocked.Read(ref writes), Interlocked.Read(ref throttled), Interlocked.Read(ref retries));

    /// <summary>ServiceProviderConfig said <c>etag.supported</c>, or a response carried an ETag header.</summary>
    public bool ETagsOffered => etagOffered || etagHeaderSeen;

    internal bool Discovered => discovered;

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

    internal void RecordServiceProviderConfig(bool etagSupported)
    {
        etagOffered = etagSupported;
        discovered = true;
    }

    internal void MarkDiscoveryAttempted() => discovered = true;

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
