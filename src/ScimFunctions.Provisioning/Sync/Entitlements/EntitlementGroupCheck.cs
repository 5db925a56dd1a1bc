using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Provisioning.Sync.Entitlements;

/// <summary>At host start, every entitlement rule group must exist in Entra: a rule naming a group that does not
/// stops the host with a message naming <c>Sync__Entitlements</c> and the rule. A directory that cannot be read
/// at that moment does not stop it (a Graph blip must not keep the app down); the first convergence that needs
/// the group then fails safely instead (<see cref="EntitlementFailures.RuleGroupNotFound"/>, nothing removed).</summary>
public sealed partial class EntitlementGroupCheck(EntitlementResolver? resolver, ILogger logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (resolver is null)
        {
            return;
        }

        IReadOnlyList<string> problems;
        try
        {
            problems = await resolver.CheckGroupsAsync(cancellationToken);
        }
        catch (DirectoryUnavailableException ex)
        {
            LogUnchecked(logger, ex, EntitlementRules.Setting);
            return;
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, problems));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3500, Level = LogLevel.Warning, Message = "The rule groups of {Setting} could not be checked at start (directory unavailable); the first convergence that needs one checks it")]
    private static partial void LogUnchecked(ILogger logger, Exception exception, string setting);
}
