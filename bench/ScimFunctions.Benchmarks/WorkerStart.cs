using System.Text.Json;
using FunctionsHostDouble;

namespace ScimFunctions.Benchmarks;

/// <summary>Cold start as Flex Consumption sees it: the built app started as a process under the host double,
/// timed from process start to its StartStream, to WorkerInitResponse, and to every function loaded.</summary>
internal static class WorkerStart
{
    public static async Task RunAsync(int rounds = 5)
    {
        var appDirectory = Environment.GetEnvironmentVariable("SCIMFN_APP_DIRECTORY");
        var settingsFile = Environment.GetEnvironmentVariable("SCIMFN_SAMPLE_SETTINGS");
        if (appDirectory is null || settingsFile is null)
        {
            Console.WriteLine("3. Worker start: skipped (run through eng/bench.sh, which builds the app and sets SCIMFN_APP_DIRECTORY).");
            return;
        }

        Console.WriteLine($"3. Worker start under the Functions host double (process start → …, {rounds} cold starts)");
        using var document = JsonDocument.Parse(File.ReadAllText(settingsFile));
        var settings = document.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString(), StringComparer.Ordinal);
        await using var host = await FunctionsHost.StartAsync();
        var connected = new List<double>();
        var initialised = new List<double>();
        var loaded = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var id = "bench-" + round;
            await using var worker = WorkerProcess.Start(appDirectory, host.Endpoint, settings, id);
            using var connection = await host.AcceptWorkerAsync(id, TimeSpan.FromSeconds(60));
            connected.Add(worker.Elapsed.TotalMilliseconds);
            await connection.InitAsync(appDirectory);
            initialised.Add(worker.Elapsed.TotalMilliseconds);
            var metadata = await connection.GetFunctionMetadataAsync(appDirectory);
            foreach (var function in metadata.FunctionMetadataResults)
            {
                await connection.LoadAsync(function, appDirectory);
            }

            loaded.Add(worker.Elapsed.TotalMilliseconds);
        }

        Console.WriteLine("   milestone                  median ms   max ms");
        Print("StartStream (dialled)", connected);
        Print("WorkerInitResponse", initialised);
        Print("all 6 functions loaded", loaded);
        Console.WriteLine();
    }

    private static void Print(string name, List<double> samples)
    {
        samples.Sort();
        Console.WriteLine($"   {name,-24}   {samples[samples.Count / 2],9:0}   {samples[^1],6:0}");
    }
}
