using System.CommandLine;
using System.Text.Json;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Cli;

/// <summary><c>scimfn provision</c>: one user (or a small group) converged now, through the function's own path.</summary>
internal sealed partial class ScimfnCommands
{
    private Command ProvisionCommand()
    {
        var user = new Argument<string?>("USER") { Description = "The user's Entra object id or userPrincipalName.", Arity = ArgumentArity.ZeroOrOne };
        var group = new Option<string?>("--group") { Description = $"Instead of a user: a group's Entra object id; its members (at most {ProvisionLimits.MaxGroupMembers}) converge first, then the group.", HelpName = "GROUP_ID" };
        var command = new Command(
            "provision",
            "Converge one user now, for real, through the same engine and safety threshold as the ProvisionObject function, then the groups " +
            "that were waiting for it; prints what was done and every SCIM request it took. Exits 2 when something failed, was staged, or the user is not found.");
        command.Arguments.Add(user);
        command.Options.Add(group);
        command.Options.Add(_json);
        AddConnectionOptions(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var userQuery = Blank(parseResult.GetValue(user));
            var groupId = Blank(parseResult.GetValue(group));
            if ((userQuery is null) == (groupId is null))
            {
                return Task.FromResult(Fail("give either USER (object id or userPrincipalName) or --group GROUP_ID."));
            }

            return RunAsync(parseResult, connected: true, async (engine, ct) =>
            {
                var report = groupId is null
                    ? await engine.ProvisionUserAsync(userQuery!, ct)
                    : await engine.ProvisionGroupAsync(groupId, ct);
                return WriteProvision(report, groupId is null ? ObjectKind.User : ObjectKind.Group, parseResult.GetValue(_json));
            }, cancellationToken);
        });
        return command;
    }

    private int WriteProvision(ProvisionReport report, ObjectKind kind, bool json)
    {
        var problem = report.ObjectId is null
            || report.Steps.Any(s => s.Status != WorkItemStatus.Done || s.Operations.Any(o => o.Action is PlanAction.Fail or PlanAction.Stage));
        if (json)
        {
            _context.Output.WriteLine(JsonSerializer.Serialize(new
            {
                query = report.Query,
                kind,
                objectId = report.ObjectId,
                found = report.ObjectId is not null,
                steps = report.Steps.Select(s => new
                {
                    kind = s.ObjectKind,
                    id = s.ObjectId,
                    status = s.Status.ToString(),
                    reason = s.Reason,
                    description = s.Description,
                    operations = s.Operations.Select(o => new { kind = o.ObjectKind, id = o.ObjectId, action = o.Action, reason = o.Reason }),
                }),
                notRun = report.NotRun.Select(f => new { kind = f.Kind.ToString(), id = f.ObjectId, reason = f.Reason }),
                scimRequests = report.ScimRequests.Count,
                requests = report.ScimRequests,
            }, ReplayJson));
            return problem ? CliExitCodes.NotConverged : CliExitCodes.Converged;
        }

        if (report.ObjectId is null)
        {
            _context.Output.WriteLine($"{kind.ToWireName()} '{report.Query}' is not found in the directory; nothing was done.");
            return CliExitCodes.NotConverged;
        }

        _context.Output.WriteLine($"Provisioned {kind.ToWireName()} {report.ObjectId}{(report.Query == report.ObjectId ? "" : $" ({report.Query})")}:");
        SyncReport.WriteTable(_context.Output, ["KIND", "OBJECT", "RESULT", "ACTION", "REASON"],
            report.Steps.SelectMany(s => s.Status == WorkItemStatus.Done
                ? s.Operations.Select(o => new[] { o.ObjectKind.ToWireName(), o.ObjectId, "done", o.Action.ToWireName(), o.Reason })
                : [[s.ObjectKind.ToWireName(), s.ObjectId, s.Status.ToString().ToLowerInvariant(), s.Reason ?? "", s.Description ?? ""]]).ToList());
        _context.Output.WriteLine(Invariant($"SCIM: {report.ScimRequests.Count} requests"));
        foreach (var request in report.ScimRequests)
        {
            _context.Output.WriteLine($"  {request}");
        }

        if (report.NotRun.Count > 0)
        {
            _context.Output.WriteLine("Left to the functions and the next sweep: " + string.Join(", ", report.NotRun.Select(f => $"{f.Kind.ToString().ToLowerInvariant()} {f.ObjectId} ({f.Reason})")));
        }

        return problem ? CliExitCodes.NotConverged : CliExitCodes.Converged;
    }
}
