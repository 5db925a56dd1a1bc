using System.Collections.Concurrent;

namespace ScimFunctions.Tests.Scim;

/// <summary>An HttpMessageHandler that answers from a function and records what it was sent.</summary>
internal sealed class StubHandler(Func<HttpRequestMessage, int, HttpResponseMessage> respond) : HttpMessageHandler
{
    private int calls;

    public ConcurrentQueue<(HttpRequestMessage Request, string? Body)> Received { get; } = new();

    /// <summary>The Authorization parameter of each request as it was sent (a resent request object changes).</summary>
    public ConcurrentQueue<string?> Credentials { get; } = new();

    public int Calls => Volatile.Read(ref calls);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Received.Enqueue((request, body));
        Credentials.Enqueue(request.Headers.Authorization?.Parameter);
        return respond(request, Interlocked.Increment(ref calls));
    }
}

internal sealed class StubHttpClientFactory(HttpMessageHandler handler) : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
}
