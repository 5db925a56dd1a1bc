namespace ScimFunctions.Provisioning.Sync;

/// <summary>How many destructive actions (disable, delete) may run in one clock hour: the count limit
/// or the fraction of managed users, whichever is reached first, never below the minimum.</summary>
public static class ThresholdPolicy
{
    public static long Limit(ThresholdOptions options, long managedUsers)
    {
        var byFraction = (long)Math.Floor(options.MaxFractionPerHour * Math.Max(0, managedUsers));
        return Math.Min(options.MaxActionsPerHour, Math.Max(options.MinimumActions, byFraction));
    }

    /// <summary>True when one more action would go past the limit.</summary>
    public static bool WouldExceed(ThresholdOptions options, long alreadyThisHour, long managedUsers) =>
        alreadyThisHour + 1 > Limit(options, managedUsers);

    /// <summary>The counter row key for the hour containing <paramref name="now"/> (UTC).</summary>
    public static string Window(DateTimeOffset now) => now.UtcDateTime.ToString("yyyyMMddHH", System.Globalization.CultureInfo.InvariantCulture);
}
