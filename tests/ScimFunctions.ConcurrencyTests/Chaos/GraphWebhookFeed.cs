using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;
using ScimFunctions.ConcurrencyTests.Exploration;
using ScimFunctions.Functions;
using ScimFunctions.Provisioning.Notifications;

namespace ScimFunctions.ConcurrencyTests.Chaos;

/// <summary>Graph's side of the webhook in the chaos run. Changes are batched into changeNotificationCollections
/// as Graph sends them for users and groups (no <c>sequenceNumber</c>, no <c>eventTime</c>: the webhook tells
/// deliveries apart by its 10 s received-time buckets) and POSTed to the real <see cref="GraphNotifications"/>
/// function, which parses them, gives them its own MessageIds and SessionIds and queues them on the run's bus,
/// whose duplicate detection then sees exactly what Service Bus would. What Graph does besides: it redelivers a
/// delivery it already sent (the same bytes), delivers some late (after later ones), and retries any delivery
/// that was not answered 2xx.</summary>
public sealed class GraphWebhookFeed
{
    public const string ClientState = "chaos-run-client-state-0123456789";
    private const string UsersSubscription = "0b7c2d4e-1f3a-4c5b-9d6e-7f8091a2b3c4";
    private const string GroupsSubscription = "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170";
    private const string Tenant = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

    private readonly GraphNotifications _webhook;
    private readonly Random _random;
    private readonly JsonArray _batch = [];
    private readonly List<byte[]> _recent = [];
    private readonly Queue<byte[]> _late = new();
    private readonly Queue<byte[]> _unanswered = new();
    private int _batchSize;

    public GraphWebhookFeed(World world, Random random)
    {
        _random = random;
        _webhook = new GraphNotifications(
            new WorkQueue(world.Bus.CreateSender()),
            Microsoft.Extensions.Options.Options.Create(new NotificationOptions { ClientState = ClientState }),
            world.Time,
            NullLogger<GraphNotifications>.Instance);
        _batchSize = NextBatchSize();
    }

    /// <summary>Notification items handed to the webhook, redeliveries included.</summary>
    public int Items { get; private set; }

    public int Posts { get; private set; }

    /// <summary>True while the webhook runs: a send refused now is the webhook's (the chaos run fails some).</summary>
    public bool Posting { get; private set; }

    public int Redelivered { get; private set; }

    public int DeliveredLate { get; private set; }

    /// <summary>Answers by status code; anything but 202 is retried, as Graph does.</summary>
    public SortedDictionary<int, int> Answers { get; } = [];

    /// <summary>Graph notices a change: it goes into the delivery being gathered, which is POSTed when full.</summary>
    public async Task ChangedAsync(WorkItemKind kind, string objectId, string changeType = WorkItemChangeTypes.Updated)
    {
        var collection = kind == WorkItemKind.User ? "Users" : "Groups";
        _batch.Add(new JsonObject
        {
            ["subscriptionId"] = kind == WorkItemKind.User ? UsersSubscription : GroupsSubscription,
            ["clientState"] = ClientState,
            ["changeType"] = changeType,
            ["resource"] = $"{collection}/{objectId}",
            ["tenantId"] = Tenant,
            ["subscriptionExpirationDateTime"] = "2026-03-05T09:00:00Z",
            ["resourceData"] = new JsonObject
            {
                ["@odata.type"] = kind == WorkItemKind.User ? "#Microsoft.Graph.User" : "#Microsoft.Graph.Group",
                ["@odata.id"] = $"{collection}/{objectId}",
                ["id"] = objectId,
                ["organizationId"] = Tenant,
            },
        });
        if (_batch.Count >= _batchSize)
        {
            await FlushAsync();
        }
    }

    /// <summary>Graph sends one of its recent deliveries again, byte for byte.</summary>
    public async Task RedeliverAsync()
    {
        if (_recent.Count == 0)
        {
            return;
        }

        Redelivered++;
        await PostAsync(_recent[_random.Next(_recent.Count)]);
    }

    /// <summary>Sends what is gathered now; every late or unanswered delivery is sent too.</summary>
    public async Task DrainAsync()
    {
        await FlushAsync();
        while (_late.Count > 0 || _unanswered.Count > 0)
        {
            await PostAsync(_late.Count > 0 ? _late.Dequeue() : _unanswered.Dequeue());
        }
    }

    private async Task FlushAsync()
    {
        if (_batch.Count == 0)
        {
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(new JsonObject { ["value"] = _batch.DeepClone() }.ToJsonString());
        _batch.Clear();
        _batchSize = NextBatchSize();
        _recent.Add(bytes);
        if (_recent.Count > 32)
        {
            _recent.RemoveAt(0);
        }

        if (_random.NextDouble() < 0.03)
        {
            // Delivered late: after the next delivery.
            DeliveredLate++;
            _late.Enqueue(bytes);
            return;
        }

        await PostAsync(bytes);
        if (_late.Count > 0)
        {
            await PostAsync(_late.Dequeue());
        }

        if (_unanswered.Count > 0)
        {
            // Graph retries a delivery that was not answered 2xx (with backoff; here: after the next one).
            await PostAsync(_unanswered.Dequeue());
        }
    }

    private async Task PostAsync(byte[] bytes)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = bytes.Length;
        context.Request.Body = new MemoryStream(bytes, writable: false);
        IActionResult result;
        Posting = true;
        try
        {
            result = await _webhook.RunAsync(context.Request);
        }
        finally
        {
            Posting = false;
        }

        var status = result switch
        {
            StatusCodeResult code => code.StatusCode,
            ObjectResult obj => obj.StatusCode ?? 200,
            _ => 200,
        };
        Posts++;
        Items += CountItems(bytes);
        Answers[status] = Answers.GetValueOrDefault(status) + 1;
        if (status != StatusCodes.Status202Accepted)
        {
            _unanswered.Enqueue(bytes);
        }
    }

    private static int CountItems(byte[] bytes) => JsonNode.Parse(bytes)!["value"]!.AsArray().Count;

    // Graph batches what it has when it sends; under load that is several changes in one POST.
    private int NextBatchSize() => _random.Next(1, 5);
}
