using Microsoft.Extensions.Options;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>The subscription part of section <c>Graph</c>: where Graph sends change notifications and for
/// how long a subscription lives. The clientState secret is <c>Notifications__ClientState</c>, the one the
/// webhook checks.</summary>
public sealed class GraphSubscriptionOptions
{
    /// <summary>Graph's maximum lifetime for user and group subscriptions (just under 29 days).</summary>
    public const int MaxLifetimeMinutes = 41_760;

    /// <summary>The webhook URL including its function key (<c>?code=…</c>); https.</summary>
    public string? NotificationUrl { get; set; }

    /// <summary>Where lifecycle events (reauthorizationRequired) go; empty = <see cref="NotificationUrl"/>,
    /// which the webhook handles too. Graph accepts it only at creation.</summary>
    public string? LifecycleNotificationUrl { get; set; }

    /// <summary>A setting that is no longer read: SubscriptionKeeper subscribes to what the scope needs
    /// (<c>/users</c>, and <c>/groups</c> when groups matter). Bound only so a deployment that still sets it
    /// is told at start instead of believing it does something.</summary>
    public string? SubscriptionResources { get; set; }

    /// <summary>Requested lifetime of a new or renewed subscription, before the safety margin.</summary>
    public int SubscriptionLifetimeMinutes { get; set; } = MaxLifetimeMinutes;

    /// <summary>Taken off the lifetime so clock skew never asks Graph for more than it allows.</summary>
    public int SubscriptionSafetyMarginMinutes { get; set; } = 60;

    internal TimeSpan EffectiveLifetime() => TimeSpan.FromMinutes(SubscriptionLifetimeMinutes - SubscriptionSafetyMarginMinutes);

    internal string EffectiveLifecycleUrl() =>
        string.IsNullOrWhiteSpace(LifecycleNotificationUrl) ? NotificationUrl! : LifecycleNotificationUrl;
}

/// <summary>Checks <see cref="GraphSubscriptionOptions"/>; every message names the setting to fix.</summary>
public sealed class GraphSubscriptionOptionsValidator : IValidateOptions<GraphSubscriptionOptions>
{
    /// <summary>Renewing closer than this makes Graph send reauthorizationRequired soon after.</summary>
    private const int MinimumEffectiveLifetimeMinutes = 180;

    public ValidateOptionsResult Validate(string? name, GraphSubscriptionOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static void ThrowIfInvalid(GraphSubscriptionOptions options)
    {
        var errors = Check(options);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(GraphOptions.Section, typeof(GraphSubscriptionOptions), errors);
        }
    }

    /// <summary>Checked at start. <c>Graph__NotificationUrl</c> is not: on a first deployment it does not exist
    /// yet (the function key is made when the host first runs), and the app must start to make it. It is
    /// checked by <see cref="CheckNotificationUrl"/> when a subscription is created.</summary>
    internal static List<string> Check(GraphSubscriptionOptions options)
    {
        var errors = new List<string>();
        CheckUrl("Graph__LifecycleNotificationUrl", options.LifecycleNotificationUrl, required: false, errors);

        if (!string.IsNullOrWhiteSpace(options.SubscriptionResources))
        {
            errors.Add("Setting Graph__SubscriptionResources is no longer read: the app subscribes to /users, and to /groups when Sync__Groups__Enabled is true or Sync__Scope__Mode is groups. Remove the setting.");
        }

        if (options.SubscriptionLifetimeMinutes is < 1 or > GraphSubscriptionOptions.MaxLifetimeMinutes)
        {
            errors.Add($"Setting Graph__SubscriptionLifetimeMinutes must be between 1 and {GraphSubscriptionOptions.MaxLifetimeMinutes} (Graph's maximum for users and groups).");
        }

        if (options.SubscriptionSafetyMarginMinutes < 0)
        {
            errors.Add("Setting Graph__SubscriptionSafetyMarginMinutes must not be negative.");
        }

        if (options.SubscriptionLifetimeMinutes - options.SubscriptionSafetyMarginMinutes < MinimumEffectiveLifetimeMinutes)
        {
            errors.Add($"Settings Graph__SubscriptionLifetimeMinutes minus Graph__SubscriptionSafetyMarginMinutes must be at least {MinimumEffectiveLifetimeMinutes} minutes: Graph wants renewals at least 3 hours out.");
        }

        return errors;
    }

    /// <summary>The problem with <c>Graph__NotificationUrl</c>, or null when subscriptions can be created.</summary>
    internal static string? CheckNotificationUrl(GraphSubscriptionOptions options)
    {
        var errors = new List<string>();
        CheckUrl("Graph__NotificationUrl", options.NotificationUrl, required: true, errors);
        return errors.Count == 0 ? null : errors[0];
    }

    internal static bool IsSupportedResource(string resource)
    {
        var parts = resource.Split('/');
        // "/users" splits into ["", "users"]; a leading slash is required.
        if (parts.Length < 2 || parts[0].Length != 0 || parts.Skip(1).Any(p => p.Length == 0))
        {
            return false;
        }

        return (parts[1], parts.Length) switch
        {
            ("users", 2 or 3) => true,
            ("groups", 2 or 3) => true,
            ("groups", 4) => parts[3] == "members",
            _ => false,
        };
    }

    private static void CheckUrl(string setting, string? value, bool required, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors.Add($"Setting {setting} is required: the webhook URL Graph posts change notifications to, with its function key (?code=…).");
            }

            return;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
        {
            errors.Add($"Setting {setting} must be an absolute https URL (Graph refuses anything else).");
        }
    }
}
