namespace ScimFunctions.Provisioning.Sync;

/// <summary>How many destructive actions (disable, delete) may run in any sliding hour: the count limit
/// or the fraction of managed users, whichever is reached first, never below the minimum. The window slides
/// (the last 60 minutes, not the clock hour), so a burst split across the top of an hour counts as one.</summary>
public static class ThresholdPolicy
{
    /// <summary>How far back an action still counts.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    public static long Limit(ThresholdOptions options, long managedUsers)
    {
        var byFraction = (long)Math.Floor(options.MaxFractionPerHour * Math.Max(0, managedUsers));
        return Math.Min(options.MaxActionsPerHour, Math.Max(options.MinimumActions, byFraction));
    }

    /// <summary>True when one more action would go past the limit.</summary>
    public static bool WouldExceed(ThresholdOptions options, long alreadyInWindow, long managedUsers) =>
        alreadyInWindow + 1 > Limit(options, managedUsers);

    /// <summary>True when an action taken at <paramref name="at"/> still counts at <paramref name="now"/>.</summary>
    public static bool InWindow(DateTimeOffset at, DateTimeOffset now) => at > now - Window;
}
