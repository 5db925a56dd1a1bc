using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace ScimFunctions.Benchmarks;

/// <summary>The Genesys emulator in its own process (its built dll, rate limit lifted), so that this process's CPU time
/// and allocations are the connector's alone.</summary>
internal sealed class ExternalEmulator : IAsyncDisposable
{
    public const string ClientId = "local-client";
    public const string ClientSecret = "local-secret";
    private readonly Process process;
    private readonly string seed;

    private ExternalEmulator(Process process, string baseUrl, string seed)
    {
        this.process = process;
        BaseUrl = baseUrl;
        this.seed = seed;
    }

    public string BaseUrl { get; }

    public string ScimBaseUrl => BaseUrl + "/api/v2/scim/v2";

    public static async Task<ExternalEmulator> StartAsync(IReadOnlyList<string> groupNames)
    {
        var dll = Environment.GetEnvironmentVariable("SCIMFN_EMULATOR_DLL")
            ?? throw new InvalidOperationException("SCIMFN_EMULATOR_DLL is not set: run the benchmarks with eng/bench.sh.");
        var seed = Path.GetTempFileName();
        await File.WriteAllTextAsync(seed, new JsonObject { ["groups"] = new JsonArray([.. groupNames.Select(n => (JsonNode)new JsonObject { ["displayName"] = n })]) }.ToJsonString());
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var baseUrl = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", baseUrl, "--seed", seed, "--Emulator:RateLimitPerMinute", "100000000", "--Logging:LogLevel:Default", "Warning"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("The emulator did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var response = await http.GetAsync(baseUrl + "/api/v2/scim/v2/ServiceProviderConfig");
                return new ExternalEmulator(process, baseUrl, seed);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException($"The emulator did not answer on {baseUrl}.");
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        File.Delete(seed);
    }
}
