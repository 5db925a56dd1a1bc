using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>At host start (scim profile): the once-per-process read of the target's ServiceProviderConfig happens
/// here instead of on the first call, and a target the connector cannot work with (no PATCH, no filters; see
/// <see cref="ScimServiceProviderConfig"/>) stops the host with a message naming what the target said: nothing is
/// taken off the queue for a target every write would fail on, so nothing is dead-lettered for it either. A target
/// that cannot be reached at that moment does not stop the host (a blip must not keep the app down); the first call
/// reads the document instead, and refuses then if it must.</summary>
public sealed partial class ScimTargetCheck(IServiceProvider services, IOptions<ScimOptions> options, ScimTargetState state, ILogger<ScimTargetCheck> logger)
    : IHostedService
{
    /// <summary>How long the start waits for the target: the host's start should not hang on it.</summary>
    internal static readonly TimeSpan StartBudget = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.TargetProfile != ScimTargetProfile.Scim)
        {
            return;
        }

        var client = services.GetRequiredService<IScimClient>();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(StartBudget);
        try
        {
            await client.GetServiceProviderConfigAsync(budget.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Only the start budget ran out.
        }

        if (state.ServiceProviderConfig is not { } found)
        {
            LogUnchecked(logger, StartBudget);
            return;
        }

        if (found.Refusal is { } refusal)
        {
            throw new InvalidOperationException(refusal);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4118, Level = LogLevel.Warning,
        Message = "The SCIM target's ServiceProviderConfig could not be read at start (not reachable within {Budget}); the first call reads it")]
    private static partial void LogUnchecked(ILogger logger, TimeSpan budget);
}
