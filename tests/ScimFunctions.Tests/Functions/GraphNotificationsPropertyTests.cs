using System.Text;
using System.Text.Json;
using CsCheck;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Functions;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Tests.Support;
using Xunit.Abstractions;

namespace ScimFunctions.Tests.Functions;

/// <summary>
/// The webhook as an attacker holding only the function key sees it: generated hostile bodies by the thousand
/// (CsCheck; a failure prints the seed that reproduces it and a shrunk body). Properties: the function always
/// answers and never with a 5xx while the queue is healthy; every good item of a mixed delivery is queued;
/// every MessageId and SessionId is valid for Service Bus; no answer and no log line repeats what was sent,
/// except the validation token, echoed as text/plain.
/// </summary>
public sealed class GraphNotificationsPropertyTests(ITestOutputHelper output)
{
    // 10,000 mixed deliveries plus 4,000 malformed bodies plus 2,000 handshakes per run.
    private const int MixedDeliveries = 10_000;
    private const int MalformedBodies = 4_000;
    private const int Handshakes = 2_000;

    // Planted in every hostile value: if it ever appears in an answer or a log line, input was echoed.
    private const string Canary = "CANARY7q";

    private const string SafeIdChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";

    private static readonly NotificationOptions Settings = new() { ClientState = Notifications.ClientState };

    [Fact]
    public async Task MixedDeliveries_AreAnswered202_EveryGoodItemQueued_WithValidServiceBusIds()
    {
        var count = 0;
        await GenDelivery.SampleAsync(async delivery =>
        {
            Interlocked.Increment(ref count);
            var run = await RunAsync(delivery.Bytes);

            if (delivery.Bytes.Length > Settings.MaxBodyBytes)
            {
                Assert.Equal(413, run.Status);
                return;
            }

            Assert.Equal(202, run.Status);
            var sessions = run.Sender.Messages.Select(m => m.SessionId).ToHashSet(StringComparer.Ordinal);
            foreach (var expected in delivery.GoodSessions)
            {
                Assert.Contains(expected, sessions);
            }

            AssertValidMessages(run.Sender);
            AssertNoEcho(run);
        }, iter: MixedDeliveries, seed: null, print: Print);

        output.WriteLine($"{count} mixed deliveries");
        Assert.Equal(MixedDeliveries, count);
    }

    [Fact]
    public async Task MalformedBodies_AreAnswered4xx_NeverThrownOr5xx()
    {
        var count = 0;
        await GenMalformed.SampleAsync(async bytes =>
        {
            Interlocked.Increment(ref count);
            var run = await RunAsync(bytes);

            // 202 only where the generator happened to produce a valid collection (an empty 'value', say).
            Assert.True(run.Status is 202 or 400 or 413, $"status {run.Status}");
            if (run.Status == 400)
            {
                Assert.Empty(run.Sender.Sends);
            }

            AssertValidMessages(run.Sender);
            AssertNoEcho(run);
        }, iter: MalformedBodies, print: Print);

        output.WriteLine($"{count} malformed bodies");
        Assert.Equal(MalformedBodies, count);
    }

    [Fact]
    public async Task HostileValidationTokens_AreEchoedOnlyAsPlainText_OrRefusedWithoutEcho()
    {
        var count = 0;
        await GenTokenQuery.SampleAsync(async query =>
        {
            Interlocked.Increment(ref count);
            var request = Request(Encoding.UTF8.GetBytes(Notifications.Collection(Notifications.UserChange("11111111-1111-1111-1111-111111111111"))), query);
            var token = request.Query["validationToken"].ToString();
            var sender = new RecordingServiceBusSender();
            var logger = new FakeLogger<GraphNotifications>();
            var function = new GraphNotifications(new WorkQueue(sender), Options.Create(Settings), new FakeTimeProvider(), logger);

            var result = await function.RunAsync(request);

            Assert.Empty(sender.Sends);
            if (token.Length is > 0 && token.Length <= Settings.MaxValidationTokenLength)
            {
                var content = Assert.IsType<ContentResult>(result);
                Assert.Equal(200, content.StatusCode);
                Assert.StartsWith("text/plain", content.ContentType, StringComparison.Ordinal);
                Assert.Equal("nosniff", request.HttpContext.Response.Headers.XContentTypeOptions.ToString());
                Assert.Equal(token, content.Content);
            }
            else
            {
                var problem = Assert.IsType<ObjectResult>(result);
                Assert.Equal(400, problem.StatusCode);
                Assert.DoesNotContain(Canary, JsonSerializer.Serialize(problem.Value), StringComparison.Ordinal);
            }

            Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Message.Contains(Canary, StringComparison.Ordinal));
        }, iter: Handshakes, print: q => q.Length > 300 ? q[..300] + "…" : q);

        output.WriteLine($"{count} handshakes");
        Assert.Equal(Handshakes, count);
    }

    private sealed record Delivery(byte[] Bytes, IReadOnlyList<string> GoodSessions);

    private sealed record Run(int? Status, IActionResult Result, RecordingServiceBusSender Sender, FakeLogger<GraphNotifications> Logger);

    private static async Task<Run> RunAsync(byte[] body)
    {
        var sender = new RecordingServiceBusSender(maxBatchBytes: 256 * 1024);
        var logger = new FakeLogger<GraphNotifications>();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
        var function = new GraphNotifications(new WorkQueue(sender), Options.Create(Settings), time, logger);
        var result = await function.RunAsync(Request(body));
        return new Run(result is IStatusCodeActionResult status ? status.StatusCode : null, result, sender, logger);
    }

    private static void AssertValidMessages(RecordingServiceBusSender sender)
    {
        foreach (var message in sender.Messages)
        {
            Assert.InRange(message.MessageId.Length, 1, 128);
            Assert.InRange(WorkItemRetryPolicy.RetryMessageId(message.MessageId, 99_999).Length, 1, 128);
            Assert.InRange(message.SessionId.Length, 1, 128);
            Assert.True(GraphNotificationParser.IsSafeId(message.SessionId), "SessionId is not a safe id");
        }
    }

    private static void AssertNoEcho(Run run)
    {
        if (run.Result is ObjectResult { Value: { } value })
        {
            Assert.IsType<ProblemDetails>(value);
            Assert.DoesNotContain(Canary, JsonSerializer.Serialize(value), StringComparison.Ordinal);
        }
        else
        {
            // 202 and 413 carry no body at all.
            Assert.IsType<StatusCodeResult>(run.Result);
        }

        Assert.DoesNotContain(run.Logger.Collector.GetSnapshot(), r => r.Message.Contains(Canary, StringComparison.Ordinal));
    }

    private static HttpRequest Request(byte[] body, string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.QueryString = new QueryString(query);
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        return context.Request;
    }

    private static string Print(Delivery delivery) => $"{delivery.GoodSessions.Count} good; body {Print(delivery.Bytes)}";

    private static string Print(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        return $"{bytes.Length} bytes: {(text.Length > 600 ? text[..600] + "…" : text)}";
    }

    // ---- generators -------------------------------------------------------------------------------------------

    private static readonly Gen<string> GenSafeId = Gen.Char[SafeIdChars].Array[1, 128].Select(c => new string(c));

    /// <summary>Object ids Graph would send: GUIDs, and (rarely) long ids still within the 128-character limit.</summary>
    private static readonly Gen<string> GenGoodId = Gen.Frequency(
        (6, Gen.Guid.Select(g => g.ToString())),
        (1, Gen.Char[SafeIdChars].Array[100, 128].Select(c => new string(c))));

    private static string Json(string value) => JsonSerializer.Serialize(value);

    /// <summary>Hostile JSON values, as raw bytes so that invalid UTF-8 can be among them.</summary>
    private static readonly Gen<byte[]> GenHostileValue = Gen.Frequency(
        (3, Gen.OneOf(Gen.Const("\\ud800"), Gen.Const("\\udc00x"), Gen.Const("\\ud800\\ud800"), Gen.Const("a\\udfff"))
            .Select(s => Encoding.UTF8.GetBytes($"\"{Canary}{s}\""))),
        (3, Gen.OneOf<byte[]>([0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82])
            .Select(bad => (byte[])[.. Encoding.UTF8.GetBytes("\"" + Canary), .. bad, (byte)'"'])),
        (1, Gen.Int[1_000, 12_000].Select(n => Encoding.UTF8.GetBytes($"\"{Canary}{new string('x', n)}\""))),
        (1, Gen.Int[20, 5_000].Select(n => Encoding.UTF8.GetBytes(new string('9', n)))),
        (1, Gen.OneOf(Gen.Const("1e99999"), Gen.Const("-0.0000000000000000000001"), Gen.Const("1E+400"), Gen.Const("-9223372036854775809"))
            .Select(Encoding.UTF8.GetBytes)),
        (2, Gen.OneOf(Gen.Const("[]"), Gen.Const("{}"), Gen.Const("true"), Gen.Const("null"), Gen.Const($"[\"{Canary}\",1]"), Gen.Const($"{{\"{Canary}\":{{\"b\":1}}}}"))
            .Select(Encoding.UTF8.GetBytes)),
        (3, Gen.Char[" ./\\:<>\"'%&;|\u00e9\u4e2d\u0000\u001f\u202eab12"].Array[0, 40]
            .Select(c => Encoding.UTF8.GetBytes(Json(Canary + new string(c))))),
        (1, Gen.Const(Encoding.UTF8.GetBytes(Json(Canary + "/../../etc/passwd")))),
        (1, Gen.Char[SafeIdChars].Array[129, 400].Select(c => Encoding.UTF8.GetBytes(Json(Canary + new string(c))))));

    private static readonly string[] ItemFields =
        ["subscriptionId", "clientState", "changeType", "resource", "tenantId", "lifecycleEvent", "subscriptionExpirationDateTime", "id"];

    private static readonly string[] DataFields = ["id", "@odata.type", "@odata.id", "organizationId", "eventTime", "sequenceNumber"];

    /// <summary>An item object with any mix of plausible and hostile fields; right or wrong clientState. It may or may
    /// not be acceptable; whatever it is, it must not cost the good items of its delivery.</summary>
    private static readonly Gen<byte[]> GenHostileItem =
        Gen.Select(
            Gen.Frequency((3, Gen.Const(0)), (2, Gen.Const(1)), (2, Gen.Const(2))), // clientState: right, hostile, absent
            Gen.Select(Gen.Int[0, ItemFields.Length - 1], GenHostileValue, Gen.Bool).Array[0, 6],
            Gen.Select(Gen.Int[0, DataFields.Length - 1], GenHostileValue).Array[0, 4],
            Gen.OneOf(Gen.Const("Users/"), Gen.Const("Groups/"), Gen.Const("users/"), Gen.Const("me/messages/"), Gen.Const("")),
            GenSafeId)
        .Select(t =>
        {
            var (clientStateMode, fields, dataFields, collection, id) = t;
            var parts = new List<byte[]>();
            if (clientStateMode == 0)
            {
                parts.Add(Encoding.UTF8.GetBytes($"\"clientState\":{Json(Notifications.ClientState)}"));
            }

            var hostileClientState = clientStateMode == 1;
            parts.Add(Encoding.UTF8.GetBytes($"\"resource\":{Json(collection + id)}"));
            parts.Add(Encoding.UTF8.GetBytes("\"changeType\":\"updated\""));
            foreach (var (index, value, _) in fields)
            {
                if (ItemFields[index] == "clientState" && !hostileClientState)
                {
                    continue;
                }

                // Duplicate property names on purpose: the last one wins in the parser.
                parts.Add([.. Encoding.UTF8.GetBytes($"\"{ItemFields[index]}\":"), .. value]);
            }

            if (dataFields.Length > 0)
            {
                var data = dataFields.Select(d => (byte[])[.. Encoding.UTF8.GetBytes($"\"{DataFields[d.Item1]}\":"), .. d.Item2]);
                parts.Add([.. "\"resourceData\":{"u8, .. Join(data), .. "}"u8]);
            }

            return (byte[])[.. "{"u8, .. Join(parts), .. "}"u8];
        });

    /// <summary>A notification Graph would send, with noise in fields the parser does not rely on. Returns the
    /// item and the SessionId it must be queued under.</summary>
    private static readonly Gen<(byte[] Json, string Session)> GenGoodItem =
        Gen.Select(
            Gen.Frequency((5, Gen.Const("user")), (3, Gen.Const("group")), (1, Gen.Const("lifecycle"))),
            GenGoodId,
            Gen.Guid,
            Gen.Frequency((2, Gen.Long.Select(n => $"\"sequenceNumber\":{n}")), (1, Gen.Const("\"eventTime\":\"2026-11-27T10:00:00Z\"")), (2, Gen.Const(""))),
            Gen.Select(Gen.Int[0, 2], GenHostileValue).Array[0, 2],
            Gen.Bool)
        .Select(t =>
        {
            var (kind, id, subscription, marker, noise, withData) = t;
            var common = $"\"subscriptionId\":\"{subscription}\",\"clientState\":{Json(Notifications.ClientState)},\"tenantId\":\"{Notifications.TenantId}\"";

            // Fields nobody reads may carry anything, undecodable strings included.
            string[] noiseNames = ["subscriptionExpirationDateTime", "unknownField", "@odata.context"];
            var noiseBytes = noise.Select(n => (byte[])[.. Encoding.UTF8.GetBytes($",\"{noiseNames[n.Item1]}\":"), .. n.Item2]).SelectMany(b => b).ToArray();
            if (kind == "lifecycle")
            {
                var lifecycle = Encoding.UTF8.GetBytes($"{{{common},\"lifecycleEvent\":\"reauthorizationRequired\"");
                return ((byte[])[.. lifecycle, .. noiseBytes, .. "}"u8], subscription.ToString());
            }

            var collection = kind == "user" ? "Users" : "Groups";
            var type = kind == "user" ? "#Microsoft.Graph.User" : "#Microsoft.Graph.Group";
            var data = withData || marker.Length > 0
                ? $",\"resourceData\":{{\"@odata.type\":\"{type}\",\"id\":{Json(id)}{(marker.Length > 0 ? "," + marker : "")}}}"
                : "";
            var item = Encoding.UTF8.GetBytes($"{{{common},\"changeType\":\"updated\",\"resource\":{Json($"{collection}/{id}")}{data}");
            return ((byte[])[.. item, .. noiseBytes, .. "}"u8], id);
        });

    /// <summary>A delivery mixing good items with hostile ones, in any order; sometimes a big batch.</summary>
    private static readonly Gen<Delivery> GenDelivery =
        Gen.Frequency(
            (40, Gen.Select(GenGoodItem.Array[0, 6], GenHostileItem.Array[0, 6])),
            (1, Gen.Select(GenGoodItem.Array[100, 250], GenHostileItem.Array[0, 20])))
        .SelectMany(t => Gen.Shuffle(
                t.Item1.Select(g => (g.Json, (string?)g.Session)).Concat(t.Item2.Select(h => (h, (string?)null))).ToList())
            .Select(items => new Delivery(
                [.. "{\"value\":["u8, .. Join(items.Select(i => i.Item1)), .. "]}"u8],
                items.Where(i => i.Item2 is not null).Select(i => i.Item2!).ToList())));

    /// <summary>Bodies that are not a changeNotificationCollection: truncated, deeply nested, random bytes,
    /// wrong top-level shapes, non-object items, invalid UTF-8 in structure.</summary>
    private static readonly Gen<byte[]> GenMalformed = Gen.Frequency(
        (4, GenDelivery.SelectMany(d => Gen.Int[0, Math.Max(0, d.Bytes.Length - 1)].Select(cut => d.Bytes[..cut]))),
        (2, Gen.Int[17, 3_000].Select(n => Encoding.UTF8.GetBytes("{\"value\":[" + new string('[', n) + new string(']', n) + "]}"))),
        (1, Gen.Int[17, 200].Select(n => Encoding.UTF8.GetBytes("{\"value\":[{\"clientState\":" + Json(Notifications.ClientState) + ",\"x\":"
            + string.Concat(Enumerable.Repeat("{\"a\":", n)) + "1" + new string('}', n) + "}]}"))),
        (2, Gen.Byte.Array[0, 600]),
        (2, Gen.OneOf(Gen.Const("[]"), Gen.Const("null"), Gen.Const("\"value\""), Gen.Const("{\"value\":{}}"), Gen.Const("{\"value\":\"" + Canary + "\"}"),
                Gen.Const("{\"value\":[1,2]}"), Gen.Const("{\"value\":[null]}"), Gen.Const("{\"value\":[\"" + Canary + "\"]}"), Gen.Const("{}"), Gen.Const(""),
                Gen.Const("{\"value\":[]}"), Gen.Const("\uFEFF{\"value\":[]}"), Gen.Const("{\"value\":[],}"), Gen.Const("{'value':[]}"))
            .Select(Encoding.UTF8.GetBytes)),
        (1, Gen.Select(GenDelivery, Gen.Byte[0x80, 0xFF]).Select(t => (byte[])[t.Item2, .. t.Item1.Bytes])),
        (1, GenGoodItem.Select(g => (byte[])[.. "{\"value\":["u8, .. g.Json, .. ",7]}"u8])));

    /// <summary>Query strings carrying hostile validation tokens: percent-encoded bytes that decode to anything
    /// (invalid UTF-8, encoded surrogates, markup, CR/LF), and overlong ones.</summary>
    private static readonly Gen<string> GenTokenQuery = Gen.Frequency(
        (4, Gen.Byte.Array[0, 200].Select(bytes => "?validationToken=" + Uri.EscapeDataString(Canary) + string.Concat(bytes.Select(b => $"%{b:X2}")))),
        (2, Gen.OneOf(Gen.Const("<script>alert(1)</script>"), Gen.Const("\r\nSet-Cookie: a=b"), Gen.Const("Validation: Testing client application reachability"))
            .Select(s => "?validationToken=" + Uri.EscapeDataString(Canary + s))),
        (1, Gen.Int[1_000, 9_000].Select(n => "?validationToken=" + Canary + new string('a', n))),
        (1, Gen.Const("?validationToken=")),
        (1, Gen.Const("?validationToken=%ED%A0%80" + Canary)));

    private static byte[] Join(IEnumerable<byte[]> parts)
    {
        var result = new List<byte>();
        var first = true;
        foreach (var part in parts)
        {
            if (!first)
            {
                result.Add((byte)',');
            }

            result.AddRange(part);
            first = false;
        }

        return [.. result];
    }
}
