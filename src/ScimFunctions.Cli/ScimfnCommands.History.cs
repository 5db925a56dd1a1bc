using System.CommandLine;

namespace ScimFunctions.Cli;

/// <summary><c>scimfn history USER</c>: every action the connector took for one user, newest first.</summary>
internal sealed partial class ScimfnCommands
{
    private Command HistoryCommand()
    {
        var user = new Argument<string>("USER") { Description = "The user's Entra object id or userPrincipalName." };
        var command = new Command(
            "history",
            "Every action the connector took for one user, newest first (Sync__HistoryDays, default 30 days): when, what (created, updated which " +
            "attributes, disabled, added to or removed from which group, staged, failed and why), the trigger and the SCIM correlation id. " +
            "Reads Table Storage only for an object id; a userPrincipalName is looked up in the directory (the options of 'explain'). " +
            "Exits 2 when the user is not found or its latest action failed or was staged.");
        command.Arguments.Add(user);
        command.Options.Add(_json);
        AddConnectionOptions(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var query = parseResult.GetRequiredValue(user).Trim();

            // The rows hold ids only: only a userPrincipalName needs the directory (and so the connected settings).
            return RunAsync(parseResult, connected: query.Contains('@', StringComparison.Ordinal), async (engine, ct) =>
            {
                var report = await engine.HistoryAsync(query, ct);
                if (parseResult.GetValue(_json))
                {
                    _context.Output.WriteLine(HistoryReport.ToJson(report));
                }
                else
                {
                    HistoryReport.Write(_context.Output, report, _context.Time.GetUtcNow());
                }

                return HistoryReport.ExitCode(report);
            }, cancellationToken);
        });
        return command;
    }
}
