using System.Diagnostics;
using System.Text;

namespace FunctionsHostDouble;

/// <summary>The built Functions app started as the Functions host starts a .NET isolated worker: from its output
/// folder, with the app settings as environment variables and the host's endpoint, worker id and request id.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process)
    {
        this.process = process;
    }

    /// <summary>Process start time, for start-to-ready figures.</summary>
    public DateTimeOffset StartedAt { get; private set; }

    private Stopwatch clock = new();

    /// <summary>Time since the process was started (monotonic).</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Everything the worker wrote to stdout and stderr: what the host logs for a worker that fails to start.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts the worker. <paramref name="settings"/> become environment variables (a null value removes one);
    /// the host's own variables (endpoint, worker id, request id, script root) are added here.</summary>
    public static WorkerProcess Start(string appDirectory, Uri hostEndpoint, IReadOnlyDictionary<string, string?> settings, string workerId)
    {
        var start = new ProcessStartInfo("dotnet", ["ScimFunctions.dll"])
        {
            WorkingDirectory = appDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // A clean environment, as the host gives: nothing from the test runner's own configuration leaks in.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("DOTNET_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("AZURITE", StringComparison.Ordinal) || k.StartsWith("VSTEST", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["AzureWebJobsScriptRoot"] = appDirectory;
        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = appDirectory;
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = appDirectory;
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["Functions__Worker__HostEndpoint"] = hostEndpoint.ToString();
        start.Environment["Functions__Worker__WorkerId"] = workerId;
        start.Environment["Functions__Worker__RequestId"] = Guid.NewGuid().ToString();
        start.Environment["Functions__Worker__GrpcMaxMessageLength"] = int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (name, value) in settings)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.Exited += (_, _) => worker.exited.TrySetResult();
        worker.StartedAt = DateTimeOffset.UtcNow;
        worker.clock = System.Diagnostics.Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits for the process to exit by itself; false if it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(exited.Task, Task.Delay(timeout)) == exited.Task;
        if (finished)
        {
            // Let the asynchronous readers drain what is left of stdout/stderr.
            await process.WaitForExitAsync();
        }

        return finished;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
