using System.Globalization;
using System.Text;

namespace ScimFunctions.ConcurrencyTests.Exploration;

/// <summary>A seed-driven deterministic scheduler. Workers are ordinary async code; exactly one runs at a
/// time, and it gives the turn back only at a yield point: every await of a seam (a Table operation, a SCIM
/// call, a Graph read, a Service Bus send or receive). There the scheduler picks the next worker with a
/// <see cref="Random"/> seeded by the schedule's seed, so the same seed replays the same interleaving
/// (the code between two yield points is deterministic: fake clock, in-memory seams, one runner at a time).
/// Two strategies, by seed: even seeds walk at random, with a switching bias drawn per schedule (some switch
/// at nearly every yield, some rarely); odd seeds use PCT (probabilistic concurrency testing: distinct random
/// priorities, the highest runs, and at 1–3 random steps the running worker drops to the lowest), which finds
/// races that need one worker to stall for a long stretch while others run to completion.
/// A worker that found nothing to do (<see cref="SetIdle"/>) is passed over while others can run, until a
/// message is sent or the clock moves (<see cref="WakeAll"/>).
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
    private bool _pct;
    private readonly List<int> _changePoints = [];
    private int _lowest;

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
        _pct = Seed % 2 == 1;
        _changePoints.Clear();
        for (var i = _random.Next(1, 4); i > 0; i--)
        {
            _changePoints.Add(Steps + _random.Next(1, 400));
        }

        foreach (var (name, body) in bodies)
        {
            var worker = new Worker(name) { Priority = _random.Next(1_000_000) };
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

            var busy = live.Where(w => !w.Idle).ToList();
            var candidates = busy.Count > 0 ? busy : live;
            if (_pct && running is not null && _changePoints.Contains(Steps))
            {
                running.Priority = --_lowest;
            }

            var next = _pct
                ? candidates.MaxBy(w => w.Priority)!
                : running is not null && candidates.Contains(running) && candidates.Count > 1 && _random.NextDouble() >= _switchProbability
                    ? running
                    : candidates[_random.Next(candidates.Count)];
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

    /// <summary>The current worker found nothing to do (true) or has work again (false).</summary>
    public void SetIdle(bool idle)
    {
        if (_current.Value is { } worker)
        {
            worker.Idle = idle;
        }
    }

    /// <summary>Something changed that an idle worker may be waiting for (a message sent, the clock moved).</summary>
    public void WakeAll()
    {
        foreach (var worker in _workers)
        {
            worker.Idle = false;
        }
    }

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

        public int Priority { get; set; }

        public bool Idle { get; set; }
    }
}

public sealed class ScheduleFailedException(int seed, string message, Exception? inner = null) : Exception(message, inner)
{
    public int Seed { get; } = seed;
}
