using System.Globalization;
using System.Text;

namespace ScimFunctions.ConcurrencyTests.Exploration;

/// <summary>A seed-driven deterministic scheduler. Workers are ordinary async code; exactly one runs at a
/// time, and it gives the turn back only at a yield point: every await of a seam (a Table operation, a SCIM
/// call, a Graph read, a Service Bus send or receive). There the scheduler picks the next worker with a
/// <see cref="Random"/> seeded by the schedule's seed, so the same seed replays the same interleaving
/// (the code between two yield points is deterministic: fake clock, in-memory seams, one runner at a time).
/// Switching is biased per schedule (some seeds switch at nearly every yield, some rarely), which finds
/// both fine-grained races and long ones.
/// Why not Coyote: see docs/engine.md (Concurrency); in short, it could not control the Azure SDK's and
/// HttpClient's awaits, and the seams already see every await that matters here.</summary>
// Not disposable on purpose: after a failed schedule some workers stay parked on their semaphores, and
// disposing those would fault them; a schedule's objects are garbage once it ends.
#pragma warning disable CA1001
public sealed class Scheduler(int seed)
#pragma warning restore CA1001
{
    private readonly Random _random = new(seed);
    private readonly AsyncLocal<Worker?> _current = new();
    private readonly SemaphoreSlim _turnEnded = new(0);
    private readonly List<Worker> _workers = [];
    private readonly Queue<string> _trace = new();
    private double _switchProbability;

    /// <summary>How many yield points a failure shows: <c>CONCURRENCY_TRACE</c>, 60 unless set.</summary>
    private static readonly int TraceLength = int.TryParse(Environment.GetEnvironmentVariable("CONCURRENCY_TRACE"), out var n) && n > 0 ? n : 60;

    public int Seed { get; } = seed;

    public int Steps { get; private set; }

    public Random Random => _random;

    /// <summary>Runs the workers to completion under this schedule. Throws <see cref="ScheduleFailedException"/> when a
    /// worker fails, blocks outside a yield point, or the schedule does not end within <paramref name="maxSteps"/>.</summary>
    public async Task RunAsync(IReadOnlyList<(string Name, Func<Task> Body)> bodies, int maxSteps = 50_000)
    {
        _switchProbability = new[] { 0.05, 0.2, 0.5, 0.9 }[_random.Next(4)];
        foreach (var (name, body) in bodies)
        {
            var worker = new Worker(name);
            _workers.Add(worker);
            worker.Task = Task.Run(async () =>
            {
                _current.Value = worker;
                await worker.Go.WaitAsync();
                try
                {
                    await body();
                }
                catch (Exception ex)
                {
                    worker.Error = ex;
                }
                finally
                {
                    worker.Done = true;
                    _turnEnded.Release();
                }
            });
        }

        Worker? running = null;
        while (true)
        {
            var live = _workers.Where(w => !w.Done).ToList();
            if (live.Count == 0)
            {
                break;
            }

            if (++Steps > maxSteps)
            {
                throw Failure($"the schedule did not end within {maxSteps} steps (livelock?)");
            }

            var next = running is not null && !running.Done && live.Count > 1 && _random.NextDouble() >= _switchProbability
                ? running
                : live[_random.Next(live.Count)];
            running = next;
            next.Go.Release();
            if (!await _turnEnded.WaitAsync(TimeSpan.FromSeconds(30)))
            {
                throw Failure($"worker {next.Name} neither yielded nor finished within 30 s (blocked outside a yield point)");
            }

            if (next.Error is { } error)
            {
                throw Failure($"worker {next.Name} failed: {error.GetType().Name}: {error.Message}", error);
            }
        }
    }

    /// <summary>A yield point. Outside a worker of this scheduler (setup, checks) it does nothing.</summary>
    public async ValueTask YieldAsync(string what)
    {
        var worker = _current.Value;
        if (worker is null || !_workers.Contains(worker))
        {
            return;
        }

        lock (_trace)
        {
            _trace.Enqueue($"{worker.Name}: {what}");
            if (_trace.Count > TraceLength)
            {
                _trace.Dequeue();
            }
        }

        _turnEnded.Release();
        await worker.Go.WaitAsync();
    }

    public string? CurrentWorker => _current.Value?.Name;

    public ScheduleFailedException Failure(string message, Exception? inner = null)
    {
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{message}\n  seed {Seed} reproduces it (step {Steps}); last yield points:\n");
        lock (_trace)
        {
            foreach (var line in _trace)
            {
                text.Append("    ").Append(line).Append('\n');
            }
        }

        return new ScheduleFailedException(Seed, text.ToString(), inner);
    }

    private sealed class Worker(string name)
    {
        public string Name { get; } = name;

        public SemaphoreSlim Go { get; } = new(0);

        public Task? Task { get; set; }

        public volatile bool Done;

        public Exception? Error { get; set; }
    }
}

public sealed class ScheduleFailedException(int seed, string message, Exception? inner = null) : Exception(message, inner)
{
    public int Seed { get; } = seed;
}
