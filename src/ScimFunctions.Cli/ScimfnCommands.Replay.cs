using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Cli;

/// <summary><c>scimfn replay</c>: dead letters back onto the queue, or every failed user queued again.</summary>
internal sealed partial class ScimfnCommands
{
    private static readonly JsonSerializerOptions ReplayJson = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private Command ReplayCommand()
    {
        var failed = new Option<bool>("--failed") { Description = "Instead of the dead letters: queue every user whose mapping row holds a last error (see 'scimfn status'), so the functions converge each again. Reads Table Storage." };
        var reason = new Option<string?>("--reason") { Description = "Only dead letters with this reason (Permanent, RetriesExhausted, MalformedBody, ... ; case-insensitive).", HelpName = "REASON" };
        var objectId = new Option<string?>("--object") { Description = "Only the work items for this Entra object id.", HelpName = "ID" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would be replayed (object, reason, description, when) and move nothing." };
        var command = new Command(
            "replay",
            "Move dead-lettered work items from the provisioning queue's dead-letter sub-queue back onto the queue, each as a new message " +
            $"(new MessageId, so duplicate detection keeps it), at most {DeadLetterReplayer.MaxPerRun} per run. Exits 2 when a matching dead letter " +
            "is not a work item (left dead-lettered) or more are left.");
        command.Options.Add(failed);
        command.Options.Add(reason);
        command.Options.Add(objectId);
        command.Options.Add(dryRun);
        command.Options.Add(_json);
        command.Options.Add(_settings.ServiceBus.Option);
        command.Options.Add(_settings.Queue.Option);
        command.Options.Add(_settings.State.Option);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var filter = new ReplayFilter(Blank(parseResult.GetValue(reason)), Blank(parseResult.GetValue(objectId)));
            var json = parseResult.GetValue(_json);
            var dry = parseResult.GetValue(dryRun);
            if (!parseResult.GetValue(failed))
            {
                return await WithServiceBusAsync(parseResult, async (client, queue) =>
                    WriteReplay(queue, await new DeadLetterReplayer(client, queue, _context.Time).ReplayAsync(filter, dry, cancellationToken), dry, json));
            }

            if (filter.Reason is not null)
            {
                return Fail("--reason selects dead letters; with --failed the users are chosen by their last error (use --object for one user).");
            }

            return await RunAsync(parseResult, connected: false, async (engine, ct) =>
            {
                var status = await engine.GetStatusAsync(ct);
                var users = status.Failures
                    .Where(f => f.ObjectKind == ObjectKind.User && (filter.ObjectId is null || string.Equals(f.ObjectId, filter.ObjectId, StringComparison.OrdinalIgnoreCase)))
                    .ToList();
                if (dry || users.Count == 0)
                {
                    return WriteFailedReplay(users, [], dry, json);
                }

                return await WithServiceBusAsync(parseResult, async (client, queue) =>
                {
                    await using var sender = client.CreateSender(queue);
                    var now = _context.Time.GetUtcNow();
                    var items = users.Select(u => new QueuedWorkItem(
                        new WorkItem(WorkItemKind.User, u.ObjectId, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Replay),
                        $"replay-{Guid.NewGuid():N}")).ToList();
                    await new WorkQueue(sender).SendAsync(items, ct);
                    return WriteFailedReplay(users, items.Select(i => i.MessageId).ToList(), dry, json);
                });
            }, cancellationToken);
        });
        return command;
    }

    /// <summary>Resolves --service-bus / ServiceBusConnection(__fullyQualifiedNamespace) and --queue, runs the body,
    /// and turns Service Bus's refusals into one line and exit code 1.</summary>
    private async Task<int> WithServiceBusAsync(ParseResult parseResult, Func<ServiceBusClient, string, Task<int>> body)
    {
        var connection = _settings.ServiceBus.Resolve(parseResult, _context.Settings)
            ?? Blank(_context.Settings[$"{_settings.ServiceBus.Key}:fullyQualifiedNamespace"]);
        if (connection is null)
        {
            return Fail($"{_settings.ServiceBus.Names} is required: the Service Bus connection string, or the namespace host (setting {_settings.ServiceBus.Setting}__fullyQualifiedNamespace).");
        }

        var queue = _settings.Queue.Resolve(parseResult, _context.Settings)!;
        try
        {
            await using var client = DeadLetterReplayer.CreateClient(connection);
            return await body(client, queue);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            // The parser's message can quote the connection string, key included.
            return Fail($"{_settings.ServiceBus.Names} is neither a Service Bus connection string (Endpoint=sb://...) nor a namespace host.");
        }
        catch (ServiceBusException ex)
        {
            return Fail($"Service Bus ({_settings.ServiceBus.Names}, queue '{queue}'): {ex.Reason}: {FirstLine(ex.Message)}");
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or AuthenticationFailedException)
        {
            return Fail($"Service Bus ({_settings.ServiceBus.Names}): not authorized: {FirstLine(ex.Message)}");
        }
    }

    private int WriteReplay(string queue, ReplayResult result, bool dryRun, bool json)
    {
        var replayed = result.Matched.Count(m => m.ReplayedAs is not null);
        var exit = result.Unreadable > 0 || result.MoreLeft ? CliExitCodes.NotConverged : CliExitCodes.Converged;
        if (json)
        {
            _context.Output.WriteLine(JsonSerializer.Serialize(new
            {
                queue,
                dryRun,
                examined = result.Examined,
                matched = result.Matched.Count,
                replayed,
                unreadable = result.Unreadable,
                moreLeft = result.MoreLeft,
                items = result.Matched.Select(m => new
                {
                    kind = m.ObjectKind,
                    id = m.ObjectId,
                    reason = m.Reason,
                    description = m.Description,
                    enqueuedAt = m.EnqueuedAt,
                    messageId = m.MessageId,
                    replayedAs = m.ReplayedAs,
                }),
            }, ReplayJson));
            return exit;
        }

        var now = _context.Time.GetUtcNow();
        _context.Output.WriteLine(dryRun
            ? Invariant($"Dead letters on '{queue}' (dry run: nothing was moved): {result.Examined} read, {result.Matched.Count} would be replayed.")
            : Invariant($"Replayed {replayed} of {result.Examined} dead letters on '{queue}' as new messages."));
        if (result.Matched.Count > 0)
        {
            SyncReport.WriteTable(_context.Output, ["KIND", "OBJECT", "REASON", "ENQUEUED", "DESCRIPTION"],
                result.Matched.Select(m => new[] { m.ObjectKind ?? "?", m.ObjectId ?? "(not a work item)", m.Reason ?? "", OperatorReports.When(m.EnqueuedAt, now), m.Description ?? "" }).ToList());
        }

        if (result.Unreadable > 0)
        {
            _context.Output.WriteLine(Invariant($"{result.Unreadable} matching dead letter(s) are not work items and stay dead-lettered: look at them in the portal (Service Bus Explorer)."));
        }

        if (result.MoreLeft)
        {
            _context.Output.WriteLine(Invariant($"Stopped after {DeadLetterReplayer.MaxPerRun} dead letters: run again for the rest."));
        }

        return exit;
    }

    private int WriteFailedReplay(List<StatusFailure> users, List<string> messageIds, bool dryRun, bool json)
    {
        if (json)
        {
            _context.Output.WriteLine(JsonSerializer.Serialize(new
            {
                failed = true,
                dryRun,
                queued = messageIds.Count,
                items = users.Select((u, i) => new { kind = u.ObjectKind, id = u.ObjectId, error = u.Error, at = u.At, replayedAs = i < messageIds.Count ? messageIds[i] : null }),
            }, ReplayJson));
            return CliExitCodes.Converged;
        }

        _context.Output.WriteLine(dryRun
            ? Invariant($"Users with a last error (dry run: nothing was queued): {users.Count}.")
            : Invariant($"Queued {messageIds.Count} user(s) with a last error; the functions converge each again."));
        if (users.Count > 0)
        {
            var now = _context.Time.GetUtcNow();
            SyncReport.WriteTable(_context.Output, ["OBJECT", "FAILED", "LAST ERROR"],
                users.Select(u => new[] { u.ObjectId, OperatorReports.When(u.At, now), u.Error }).ToList());
        }

        return CliExitCodes.Converged;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
