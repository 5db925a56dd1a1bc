using System.Net;
using System.Net.Sockets;
using System.Text;
using FunctionsHostDouble;

namespace ScimFunctions.IntegrationTests.FunctionsHost;

/// <summary>The plainest proof that the app starts: no protocol, only a loopback listener where the host's gRPC
/// endpoint would be. A worker that dials it and sends the HTTP/2 preface got through its own start-up (DI,
/// options validation, telemetry); one that crashes first never dials.</summary>
public sealed class WorkerStartTests
{
    [Fact]
    public async Task BuiltApp_StartedWithTheSampleSettings_GetsThroughStartUpAndDialsTheHost()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        await using var worker = WorkerProcess.Start(AppUnderTest.Directory(), endpoint, AppUnderTest.SampleSettings(), "plain-start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var accept = listener.AcceptTcpClientAsync(timeout.Token).AsTask();
        var exited = worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var first = await Task.WhenAny(accept, exited);

        Assert.True(first == accept, "The worker exited before dialling the host:\n" + worker.Output);
        using var client = await accept;
        var preface = new byte[24];
        var read = 0;
        var stream = client.GetStream();
        while (read < preface.Length)
        {
            var n = await stream.ReadAsync(preface.AsMemory(read), timeout.Token);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        Assert.StartsWith("PRI * HTTP/2.0", Encoding.ASCII.GetString(preface, 0, read), StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", worker.Output, StringComparison.Ordinal);
    }
}
