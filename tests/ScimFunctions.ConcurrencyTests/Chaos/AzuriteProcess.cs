using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.ConcurrencyTests.Chaos;

/// <summary>A real Azurite Table service for the long chaos run, on one loopback port and one data folder
/// (<c>--location</c>, LokiJS files), that the run stops and starts again mid-run. Stopping is SIGINT, after which
/// Azurite closes its listener, drops every connection (the engine's pooled ones included) and saves its
/// database before it exits: Azure Table Storage never loses a write it acknowledged, so neither may the
/// outage here. A SIGKILL would lose up to LokiJS's 5 s autosave interval of acknowledged writes, which would
/// test Azurite's persistence, not the connector.</summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    // Azurite's documented development account key: public, not a secret.
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly string _executable;
    private readonly string _dataFolder;
    private Process? _process;
    private TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AzuriteProcess(string executable, string dataFolder, int port)
    {
        _executable = executable;
        _dataFolder = dataFolder;
        Port = port;
    }

    public int Port { get; }

    public int Restarts { get; private set; }

    /// <summary>Wall-clock seconds the service was down, over all stops (printed, never asserted).</summary>
    public double SecondsDown { get; private set; }

    /// <summary>Table operations that failed after Azure.Core's retries.</summary>
    public int FailedOperations => _failed;

    private int _failed;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevKey};TableEndpoint=http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/devstoreaccount1;";

    private DateTime _stoppedAt;

    public static async Task<AzuriteProcess> StartAsync()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ScimFunctions.sln")))
        {
            root = root.Parent;
        }

        var executable = root is null ? null : Path.Combine(root.FullName, "eng", "tools", "node_modules", ".bin", "azurite-table");
        if (executable is null || !File.Exists(executable))
        {
            throw new InvalidOperationException("Azurite is not installed: run `cd eng/tools && npm ci` (eng/chaos.sh does it).");
        }

        var folder = Directory.CreateTempSubdirectory("chaos-azurite-").FullName;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var azurite = new AzuriteProcess(executable, folder, port);
        await azurite.LaunchAsync();
        return azurite;
    }

    /// <summary>The SDK client the engine gets, with the app's options (<see cref="StateClientOptions"/>): Azure.Core's
    /// own retries, their count as the app has it, their delays shortened because this run's clock is fake and the
    /// real seconds they would wait only slow it down; <paramref name="yield"/> runs before every operation (the
    /// scheduler's turn, as the in-memory tables have).</summary>
    public TableServiceClient CreateClient(Func<string, ValueTask> yield)
    {
        var options = StateClientOptions.Create();
        options.Retry.Delay = TimeSpan.FromMilliseconds(20);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(200);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        options.AddPolicy(new YieldPolicy(this, yield), HttpPipelinePosition.PerCall);
        return new TableServiceClient(ConnectionString, options);
    }

    /// <summary>SIGINT, then wait until Azurite says its database is closed (saved); the process is ended after.</summary>
    public async Task StopAsync()
    {
        var process = _process ?? throw new InvalidOperationException("Azurite is not running.");
        using (var signal = Process.Start(new ProcessStartInfo("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
        {
            await signal.WaitForExitAsync();
        }

        var closed = await Task.WhenAny(_closed.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(25)));
        if (!_closed.Task.IsCompleted && !process.HasExited)
        {
            throw new InvalidOperationException($"Azurite did not close within 25 s of SIGINT (data folder {_dataFolder}); killing it now would lose acknowledged writes.");
        }

        _ = closed;
        if (!process.HasExited)
        {
            // Closed and saved; what keeps the process alive (telemetry, timers) holds no data.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        _process = null;
        _stoppedAt = DateTime.UtcNow;
    }

    /// <summary>Starts it again on the same port and data folder.</summary>
    public async Task RestartAsync()
    {
        await LaunchAsync();
        Restarts++;
        SecondsDown += (DateTime.UtcNow - _stoppedAt).TotalSeconds;
    }

    private async Task LaunchAsync()
    {
        _closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = new ProcessStartInfo(_executable, ["--location", _dataFolder, "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--tableHost", "127.0.0.1", "--tablePort", Port.ToString(CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dataFolder,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        var closed = _closed;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("successfully closed", StringComparison.Ordinal) == true)
            {
                closed.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited at start with code {process.ExitCode} (port {Port}).");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException($"Azurite did not listen on port {Port} within 30 s.");
    }

    // An exception filter that only counts: the exception goes on unchanged.
    private bool Failed()
    {
        Interlocked.Increment(ref _failed);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_dataFolder, recursive: true);
        }
        catch (IOException)
        {
            // A scratch folder under the temp directory; leaving it behind is harmless.
        }
    }

    /// <summary>One yield point per Table operation (before Azure.Core's retries, so a retried request is one turn).</summary>
    private sealed class YieldPolicy(AzuriteProcess azurite, Func<string, ValueTask> yield) : HttpPipelinePolicy
    {
        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await yield($"table {message.Request.Method} {message.Request.Uri.Path}");
            try
            {
                await ProcessNextAsync(message, pipeline);
            }
            catch (Exception) when (azurite.Failed())
            {
                throw;
            }
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The engine's Table calls are async; a sync call would run outside the scheduler's turns.");
    }
}
