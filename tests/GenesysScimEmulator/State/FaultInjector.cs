namespace GenesysScimEmulator.State;

/// <summary>Faults to inject (JSON of <c>PUT /_emulator/faults</c>). A <c>…Count</c> makes the next N
/// matching requests fail for sure (deterministic tests); a <c>…Fraction</c> makes each matching request
/// fail with that probability. Counts are spent before fractions are rolled.</summary>
public sealed record FaultSettings
{
    /// <summary>Answer 5xx (a status from <see cref="ErrorStatuses"/>) with a Genesys ErrorBody.</summary>
    public double ErrorFraction { get; init; }

    public int ErrorCount { get; init; }

    public IReadOnlyList<int> ErrorStatuses { get; init; } = [500, 503];

    /// <summary>Answer 429 too.many.requests.retry.after with <see cref="ThrottleRetryAfterSeconds"/>.</summary>
    public double ThrottleFraction { get; init; }

    public int ThrottleCount { get; init; }

    public int ThrottleRetryAfterSeconds { get; init; } = 1;

    /// <summary>Abort the connection without an answer (the client sees a reset / IOException).</summary>
    public double DropFraction { get; init; }

    public int DropCount { get; init; }

    /// <summary>Delay added before every matching request is handled (on the emulator's TimeProvider).</summary>
    public int LatencyMs { get; init; }

    /// <summary>Before a user or group write carrying If-Match is checked, bump the resource's version as
    /// an administrator editing it in Genesys at the same moment would, so the write meets a stale version.</summary>
    public double ConcurrentEditFraction { get; init; }

    public int ConcurrentEditCount { get; init; }

    /// <summary>HTTP methods the faults apply to (e.g. ["PATCH"]); empty: all.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>Path kinds the faults apply to (users, groups, serviceproviderconfig, resourcetypes,
    /// schemas, token); empty: every SCIM kind, and the token endpoint only with <see cref="IncludeTokenEndpoint"/>.</summary>
    public IReadOnlyList<string> Kinds { get; init; } = [];

    public bool IncludeTokenEndpoint { get; init; }

    public static FaultSettings None { get; } = new();

    public void Validate()
    {
        foreach (var (name, fraction) in new[]
        {
            (nameof(ErrorFraction), ErrorFraction), (nameof(ThrottleFraction), ThrottleFraction),
            (nameof(DropFraction), DropFraction), (nameof(ConcurrentEditFraction), ConcurrentEditFraction),
        })
        {
            if (fraction is < 0 or > 1 || double.IsNaN(fraction))
            {
                throw new ArgumentException($"{name} must be between 0 and 1; got {fraction}.");
            }
        }

        if (ErrorCount < 0 || ThrottleCount < 0 || DropCount < 0 || ConcurrentEditCount < 0)
        {
            throw new ArgumentException("Fault counts must not be negative.");
        }

        if (ErrorStatuses.Count == 0 || ErrorStatuses.Any(s => s is < 400 or > 599))
        {
            throw new ArgumentException("ErrorStatuses must list at least one status between 400 and 599 (e.g. [500, 503]).");
        }

        if (LatencyMs < 0 || ThrottleRetryAfterSeconds < 0)
        {
            throw new ArgumentException("LatencyMs and ThrottleRetryAfterSeconds must not be negative.");
        }
    }
}

/// <summary>What to do to one request.</summary>
public sealed record FaultDecision(TimeSpan Latency, bool Drop, int? ErrorStatus, int? ThrottleRetryAfterSeconds)
{
    public static FaultDecision None { get; } = new(TimeSpan.Zero, false, null, null);
}

/// <summary>Decides per request which fault, if any, to inject. Thread-safe.</summary>
public sealed class FaultInjector(EmulatorSettings settings)
{
    private readonly Lock gate = new();
    private Random random = Create(settings.Current.FaultSeed);
    private FaultSettings current = FaultSettings.None;
    private int errorsLeft;
    private int throttlesLeft;
    private int dropsLeft;
    private int editsLeft;

    /// <summary>The settings with the counts still to be spent.</summary>
    public FaultSettings Current
    {
        get
        {
            lock (gate)
            {
                return current with { ErrorCount = errorsLeft, ThrottleCount = throttlesLeft, DropCount = dropsLeft, ConcurrentEditCount = editsLeft };
            }
        }
    }

    public void Set(FaultSettings faults)
    {
        faults.Validate();
        lock (gate)
        {
            current = faults;
            errorsLeft = faults.ErrorCount;
            throttlesLeft = faults.ThrottleCount;
            dropsLeft = faults.DropCount;
            editsLeft = faults.ConcurrentEditCount;
        }
    }

    public void Clear()
    {
        Set(FaultSettings.None);
        lock (gate)
        {
            random = Create(settings.Current.FaultSeed);
        }
    }

    public FaultDecision Decide(string method, string kind)
    {
        lock (gate)
        {
            if (!Applies(method, kind))
            {
                return FaultDecision.None;
            }

            var latency = TimeSpan.FromMilliseconds(current.LatencyMs);
            if (Roll(ref dropsLeft, current.DropFraction))
            {
                return new(latency, true, null, null);
            }

            if (Roll(ref errorsLeft, current.ErrorFraction))
            {
                var statuses = current.ErrorStatuses;
                return new(latency, false, statuses[random.Next(statuses.Count)], null);
            }

            if (Roll(ref throttlesLeft, current.ThrottleFraction))
            {
                return new(latency, false, null, current.ThrottleRetryAfterSeconds);
            }

            return latency == TimeSpan.Zero ? FaultDecision.None : new(latency, false, null, null);
        }
    }

    /// <summary>Whether a conditional write to users/groups should first meet a concurrent admin edit.</summary>
    public bool ConcurrentEdit(string method, string kind)
    {
        lock (gate)
        {
            return Applies(method, kind) && Roll(ref editsLeft, current.ConcurrentEditFraction);
        }
    }

    private bool Applies(string method, string kind)
    {
        if (kind == "token" && !current.IncludeTokenEndpoint)
        {
            return false;
        }

        if (current.Kinds.Count > 0 && !current.Kinds.Contains(kind, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        return current.Methods.Count == 0 || current.Methods.Contains(method, StringComparer.OrdinalIgnoreCase);
    }

    private bool Roll(ref int countLeft, double fraction)
    {
        if (countLeft > 0)
        {
            countLeft--;
            return true;
        }

        return fraction > 0 && random.NextDouble() < fraction;
    }

    // Fault injection needs reproducibility, not unpredictability.
#pragma warning disable CA5394
    private static Random Create(int? seed) => seed is { } value ? new Random(value) : new Random();
#pragma warning restore CA5394
}
