using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.IntegrationTests.Scim;

/// <summary>The profile tests' SCIM client: the real <see cref="ScimClient"/>, quick to give up (the tests count its
/// requests and retries) and logging into a collector the tests read.</summary>
internal static class QuickScimClient
{
    /// <param name="options">The target: profile, base URL and credentials; the limits and retries are set here.</param>
    public static ScimClient Create(ScimOptions options, FakeLogCollector logs, Action<ScimOptions>? configure = null, TimeProvider? time = null)
    {
        options.RequestsPerMinute = 6000;
        options.RequestBurst = 100;
        options.AttemptTimeout = TimeSpan.FromSeconds(2);
        options.CallTimeBudget = TimeSpan.FromSeconds(10);
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
        options.MaxRetries = 3;
        configure?.Invoke(options);
        var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Trace));
        return ScimClient.Create(options, time ?? TimeProvider.System, loggerFactory);
    }
}
