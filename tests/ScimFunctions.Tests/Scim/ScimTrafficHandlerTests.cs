using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimTrafficHandlerTests
{
    [Fact]
    public async Task Send_ResponseOverTheBufferLimit_FailsInsteadOfBufferingIt()
    {
        using var invoker = Invoker(new byte[ScimTrafficHandler.MaxResponseBytes + 1]);

        await Assert.ThrowsAsync<HttpRequestException>(() => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "https://scim.example.com/Users"), CancellationToken.None));
    }

    [Fact]
    public async Task Send_ResponseWithinTheLimit_IsBuffered()
    {
        using var invoker = Invoker(new byte[1024]);

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "https://scim.example.com/Users"), CancellationToken.None);

        Assert.Equal(1024, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    private static HttpMessageInvoker Invoker(byte[] body)
    {
        var time = new FakeTimeProvider();
        var stub = new StubHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream(body)) });
        var handler = new ScimTrafficHandler(new ScimTargetState(), new ScimRateLimiter(300, 10, time), time, NullLogger<ScimTrafficHandler>.Instance) { InnerHandler = stub };
        return new HttpMessageInvoker(handler);
    }
}
