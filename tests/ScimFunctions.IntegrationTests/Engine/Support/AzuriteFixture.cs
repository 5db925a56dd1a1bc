using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ScimFunctions.IntegrationTests.Engine.Support;

/// <summary>Table Storage for the engine tests: the Azurite that eng/test.sh started
/// (<c>AZURITE_CONNECTION_STRING</c>), or one started here from eng/tools on a free 127.0.0.1 port.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    // Azurite's documented development account key: public, not a secret.
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private Process? process;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var fromScript = Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING");
        if (!string.IsNullOrWhiteSpace(fromScript))
        {
            ConnectionString = fromScript;
            return;
        }

        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ScimFunctions.sln")))
        {
            root = root.Parent;
        }

        var azurite = root is null ? null : Path.Combine(root.FullName, "eng", "tools", "node_modules", ".bin", "azurite-table");
        if (azurite is null || !File.Exists(azurite))
        {
            throw new InvalidOperationException("Azurite is not installed: run `cd eng/tools && npm ci` (eng/test.sh does it), or set AZURITE_CONNECTION_STRING.");
        }

        var port = FreePort();
        process = Process.Start(new ProcessStartInfo(azurite, $"--inMemoryPersistence --silent --skipApiVersionCheck --tableHost 127.0.0.1 --tablePort {port}")
        {
            UseShellExecute = false,
        })!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevKey};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException("Azurite did not start within 30 s.");
    }

    public Task DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }

        process?.Dispose();
        return Task.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class EngineCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Engine";
}
