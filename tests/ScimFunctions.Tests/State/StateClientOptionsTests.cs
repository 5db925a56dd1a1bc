using System.Net;
using System.Net.Sockets;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Tests.State;

/// <summary>Table Storage refusing connections (restarting, unreachable): what the engine is thrown once Azure.Core's
/// retries are spent. The engine classifies Table failures by <see cref="RequestFailedException"/>.</summary>
public sealed class StateClientOptionsTests
{
    // Azurite's documented development account key: public, not a secret.
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    [Fact]
    public async Task StorageRefusingEveryAttempt_WithTheAppsOptions_ThrowsRequestFailedException_AfterEveryRetry()
    {
        var attempts = new CountingPolicy();
        var options = StateClientOptions.Create();
        Fast(options, attempts);

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => GetAsync(options));

        Assert.Equal(0, error.Status);
        Assert.Equal(options.Retry.MaxRetries + 1, attempts.Count);
    }

    [Fact]
    public async Task StorageRefusingEveryAttempt_WithPlainSdkOptions_ThrowsAggregateException()
    {
        // What the app was built with before: the shape that slipped past the engine's catches. If a later SDK
        // stops aggregating, this says so (and the unwrapping becomes a no-op).
        var options = new TableClientOptions();
        Fast(options, new CountingPolicy());

        var error = await Assert.ThrowsAsync<AggregateException>(() => GetAsync(options));

        Assert.All(error.InnerExceptions, e => Assert.IsType<RequestFailedException>(e));
    }

    [Fact]
    public async Task TheAppsTableClient_FromAConnectionString_ThrowsRequestFailedException_WhenStorageIsDown()
    {
        var client = ProvisioningRegistration.CreateTableServiceClient(new StateOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevKey};TableEndpoint=http://127.0.0.1:{ClosedPort()}/devstoreaccount1;",
        });

        // The app's own retry delays (seconds in all): the one test here that waits for them.
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetTableClient("mappings").GetEntityIfExistsAsync<TableEntity>("p", "r"));

        Assert.Equal(0, error.Status);
    }

    private static async Task GetAsync(TableClientOptions options)
    {
        var client = new TableServiceClient(new Uri($"http://127.0.0.1:{ClosedPort()}/devstoreaccount1"), new TableSharedKeyCredential("devstoreaccount1", DevKey), options);
        await client.GetTableClient("mappings").GetEntityIfExistsAsync<TableEntity>("p", "r");
    }

    private static void Fast(TableClientOptions options, CountingPolicy attempts)
    {
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(1);
        options.AddPolicy(attempts, HttpPipelinePosition.PerRetry);
    }

    /// <summary>A loopback port nothing listens on: every connection is refused at once.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private sealed class CountingPolicy : HttpPipelineSynchronousPolicy
    {
        private int _count;

        public int Count => _count;

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _count);
    }
}
