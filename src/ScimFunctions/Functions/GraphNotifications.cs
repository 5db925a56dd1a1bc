using Azure.Messaging.ServiceBus;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ScimFunctions.Provisioning.Notifications;

namespace ScimFunctions.Functions;

/// <summary>The Graph webhook: answers the validation handshake, checks every item's clientState,
/// and puts valid items on the provisioning queue in one batch before answering 202. It does no
/// provisioning itself, so it stays well inside Graph's 3-second deadline.</summary>
public sealed partial class GraphNotifications(
    WorkQueue queue,
    IOptions<NotificationOptions> options,
    TimeProvider timeProvider,
    ILogger<GraphNotifications> logger)
{
    // All methods reach the function so that a wrong one gets a clean 405 instead of the host's 404.
    [Function(nameof(GraphNotifications))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, Route = "notifications")] HttpRequest request,
        CancellationToken cancellationToken = default)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            request.HttpContext.Response.Headers.Allow = "POST";
            return Problem(StatusCodes.Status405MethodNotAllowed, "Method not allowed", "Graph notifications are delivered with POST.");
        }

        var settings = options.Value;
        if (request.Query.TryGetValue("validationToken", out var tokens))
        {
            return Validate(tokens.ToString(), settings, request);
        }

        if (request.ContentLength > settings.MaxBodyBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body may be at most {settings.MaxBodyBytes} bytes.");
        }

        var body = await ReadBoundedAsync(request.Body, settings.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body may be at most {settings.MaxBodyBytes} bytes.");
        }

        ParsedNotifications parsed;
        try
        {
            parsed = GraphNotificationParser.Parse(body.Value, settings.ClientState, timeProvider.GetUtcNow());
        }
        catch (MalformedNotificationException ex)
        {
            LogMalformed(logger, ex.Message);
            return Problem(StatusCodes.Status400BadRequest, "Malformed notification", ex.Message);
        }

        if (parsed.Rejected > 0)
        {
            LogClientStateMismatch(logger, parsed.Rejected, string.Join(',', parsed.RejectedSubscriptionIds));
        }

        if (parsed.Malformed > 0)
        {
            LogMalformedItems(logger, parsed.Malformed);
        }

        try
        {
            await queue.SendAsync(parsed.Items, cancellationToken);
        }
        catch (Exception ex) when (ex is ServiceBusException or UnauthorizedAccessException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            // 5xx makes Graph retry the whole delivery; duplicate detection absorbs the part that got through.
            LogQueueFailure(logger, ex, parsed.Items.Count);
            return Problem(StatusCodes.Status503ServiceUnavailable, "Queue unavailable", "The notifications could not be stored; retry later.");
        }

        LogAccepted(logger, parsed.Items.Count, parsed.Rejected, parsed.Ignored);

        // The response never says which items passed the clientState check.
        return new StatusCodeResult(StatusCodes.Status202Accepted);
    }

    private IActionResult Validate(string token, NotificationOptions settings, HttpRequest request)
    {
        if (token.Length == 0 || token.Length > settings.MaxValidationTokenLength)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid validation token", $"The validation token must be 1 to {settings.MaxValidationTokenLength} characters.");
        }

        LogValidation(logger);

        // text/plain and nosniff: the echoed token can never be interpreted as HTML or script.
        request.HttpContext.Response.Headers.XContentTypeOptions = "nosniff";
        return new ContentResult { StatusCode = StatusCodes.Status200OK, ContentType = "text/plain; charset=utf-8", Content = token };
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is longer (chunked
    /// bodies have no Content-Length to check up front).</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static ObjectResult Problem(int status, string title, string detail) =>
        new(new ProblemDetails { Status = status, Title = title, Detail = detail })
        {
            StatusCode = status,
            ContentTypes = { "application/problem+json" },
        };

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Answered the Graph validation handshake")]
    private static partial void LogValidation(ILogger logger);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Queued {Queued} notification work items ({Rejected} rejected, {Ignored} ignored)")]
    private static partial void LogAccepted(ILogger logger, int queued, int rejected, int ignored);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Security: {Rejected} notification items failed the clientState check and were dropped (subscriptions: {SubscriptionIds})")]
    private static partial void LogClientStateMismatch(ILogger logger, int rejected, string subscriptionIds);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Rejected a malformed notification body: {Problem}")]
    private static partial void LogMalformed(ILogger logger, string problem);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Skipped {Malformed} malformed notification items with a valid clientState")]
    private static partial void LogMalformedItems(ILogger logger, int malformed);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Could not queue {Count} work items; answering 503 so Graph retries")]
    private static partial void LogQueueFailure(ILogger logger, Exception exception, int count);
}
