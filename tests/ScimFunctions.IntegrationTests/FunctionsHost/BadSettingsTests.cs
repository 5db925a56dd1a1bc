using System.Net;
using System.Net.Sockets;
using FunctionsHostDouble;

namespace ScimFunctions.IntegrationTests.FunctionsHost;

/// <summary>A worker with a missing or invalid setting must stop at start, and what it writes (which the host
/// collects from the worker's output and logs) must name the setting. It must not get as far as the host.</summary>
public sealed class BadSettingsTests
{
    [Theory]
    [InlineData("Notifications__ClientState", null)]
    [InlineData("Scim__RequestsPerMinute", "0")]
    [InlineData("State__TablePrefix", "1-not-a-prefix")]
    [InlineData("Sync__Scope__Mode", "everyone")]
    [InlineData("ProvisioningQueueName", null)]
    [InlineData("ServiceBusConnection", null)]
    public async Task MissingOrInvalidSetting_StopsTheWorker_NamingTheSetting(string setting, string? value)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var settings = AppUnderTest.SampleSettings();
        settings[setting] = value;

        await using var worker = WorkerProcess.Start(AppUnderTest.Directory(), new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}"), settings, "bad-settings");
        var exited = await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exited, "The worker kept running with a bad " + setting + ":\n" + worker.Output);
        Assert.NotEqual(0, worker.ExitCode);
        Assert.Contains(setting, worker.Output, StringComparison.Ordinal);
        Assert.False(listener.Pending(), "The worker dialled the host although its settings are invalid.");
    }
}
