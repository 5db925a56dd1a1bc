using System.Security.Cryptography;

namespace GenesysScimEmulator.State;

public enum TokenStatus
{
    Valid,
    Unknown,
    Expired,
}

/// <summary>Bearer tokens issued by <c>POST /oauth/token</c>, their expiry, and the per-token rate window
/// (fixed one-minute windows starting at a token's first request in the window).</summary>
public sealed class TokenStore(TimeProvider time, EmulatorSettings settings)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Lock gate = new();
    private readonly Dictionary<string, Token> tokens = new(StringComparer.Ordinal);
    private readonly Token clientWindow = new(DateTimeOffset.MaxValue);
    private readonly List<DateTimeOffset> clientAccepted = [];

    /// <summary>With <see cref="EmulatorOptions.RateLimitPerClient"/>: when each request within the limit was accepted.</summary>
    public IReadOnlyList<DateTimeOffset> ClientAcceptedTimes()
    {
        lock (gate)
        {
            return [.. clientAccepted];
        }
    }

    public (string AccessToken, int ExpiresIn) Issue()
    {
        var lifetime = settings.Current.TokenLifetimeSeconds;
        var value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
            .Replace('+', '-').Replace('/', '_').TrimEnd('=');
        lock (gate)
        {
            tokens[value] = new Token(time.GetUtcNow().AddSeconds(lifetime));
        }

        return (value, lifetime);
    }

    public TokenStatus Check(string token)
    {
        lock (gate)
        {
            if (!tokens.TryGetValue(token, out var entry))
            {
                return TokenStatus.Unknown;
            }

            return time.GetUtcNow() >= entry.ExpiresAt ? TokenStatus.Expired : TokenStatus.Valid;
        }
    }

    /// <summary>Counts one request against the token's window. False with the seconds until the window
    /// ends when the limit is reached (rejected requests do not count).</summary>
    public bool TryConsume(string token, int limitPerMinute, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (limitPerMinute <= 0)
        {
            return true;
        }

        var now = time.GetUtcNow();
        lock (gate)
        {
            if (!tokens.TryGetValue(token, out var entry))
            {
                return true;
            }

            var perClient = settings.Current.RateLimitPerClient;
            if (perClient)
            {
                entry = clientWindow;
            }

            if (entry.WindowStart is null || now >= entry.WindowStart.Value + Window)
            {
                entry.WindowStart = now;
                entry.Count = 0;
            }

            if (entry.Count >= limitPerMinute)
            {
                retryAfterSeconds = Math.Max(1, (int)Math.Ceiling((entry.WindowStart.Value + Window - now).TotalSeconds));
                return false;
            }

            entry.Count++;
            if (perClient)
            {
                clientAccepted.Add(now);
            }

            return true;
        }
    }

    /// <summary>Makes every issued token expired now (clients must fetch a new one).</summary>
    public int ExpireAll()
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            foreach (var entry in tokens.Values)
            {
                entry.ExpiresAt = now;
            }

            return tokens.Count;
        }
    }

    public void ResetRateWindows()
    {
        lock (gate)
        {
            foreach (var entry in tokens.Values.Append(clientWindow))
            {
                entry.WindowStart = null;
                entry.Count = 0;
            }
        }
    }

    public int ActiveCount
    {
        get
        {
            var now = time.GetUtcNow();
            lock (gate)
            {
                return tokens.Values.Count(t => t.ExpiresAt > now);
            }
        }
    }

    private sealed class Token(DateTimeOffset expiresAt)
    {
        public DateTimeOffset ExpiresAt { get; set; } = expiresAt;

        public DateTimeOffset? WindowStart { get; set; }

        public int Count { get; set; }
    }
}
