using System.Net;
using System.Text;
using FunctionsHostDouble.Protocol;

namespace ScimFunctions.IntegrationTests.FunctionsHost;

/// <summary>The webhook driven as the host drives it with ASP.NET Core integration: an InvocationRequest over gRPC
/// and the HTTP request forwarded to the worker's own HTTP URI, matched by the invocation id header.</summary>
[Collection(HostedAppCollection.Name)]
public sealed class WebhookUnderHostTests(HostedApp app)
{
    [Fact]
    public async Task ValidationHandshake_AnswersTheDecodedTokenAsPlainText()
    {
        var (http, invocation) = await app.InvokeHttpAsync(HttpMethod.Post, "api/notifications?validationToken=Validation%3A%20Testing%20client%20application%20reachability");

        Assert.True(http.StatusCode == HttpStatusCode.OK, app.Describe(invocation));
        Assert.Equal("text/plain", http.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Validation: Testing client application reachability", await http.Content.ReadAsStringAsync());
        Assert.Equal(StatusResult.Types.Status.Success, invocation.Result.Status);
    }

    [Fact]
    public async Task MalformedDelivery_IsA400ProblemNamingTheProblem()
    {
        using var body = new StringContent("""{"value": "not an array"}""", Encoding.UTF8, "application/json");
        var (http, invocation) = await app.InvokeHttpAsync(HttpMethod.Post, "api/notifications", body);

        Assert.True(http.StatusCode == HttpStatusCode.BadRequest, app.Describe(invocation));
        Assert.Equal("application/problem+json", http.Content.Headers.ContentType?.MediaType);
        Assert.Contains("value", await http.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(StatusResult.Types.Status.Success, invocation.Result.Status);
    }

    [Fact]
    public async Task GoodDelivery_Is202_AndEveryItemIsOnTheQueue_OneSessionPerObject()
    {
        var before = app.Bus.Received(HostedApp.QueueName).Count;
        using var body = new StringContent(Delivery(HostedApp.ClientState, "hook-user-1", "hook-user-2"), Encoding.UTF8, "application/json");
        var (http, invocation) = await app.InvokeHttpAsync(HttpMethod.Post, "api/notifications", body);

        Assert.True(http.StatusCode == HttpStatusCode.Accepted, app.Describe(invocation));
        var queued = app.Bus.Received(HostedApp.QueueName).Skip(before).ToList();
        Assert.Equal(["hook-user-1", "hook-user-2"], queued.Select(m => m.SessionId).Order(StringComparer.Ordinal));
        Assert.All(queued, m => Assert.StartsWith("u:" + m.SessionId + ":", m.MessageId, StringComparison.Ordinal));
        Assert.All(queued, m => Assert.Contains("\"objectId\":\"" + m.SessionId + "\"", Encoding.UTF8.GetString(m.Body), StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task WrongClientState_Is202_AndNothingIsQueued()
    {
        var before = app.Bus.Received(HostedApp.QueueName).Count;
        using var body = new StringContent(Delivery("not-the-client-state-at-all-0000", "hook-forged-1"), Encoding.UTF8, "application/json");
        var (http, invocation) = await app.InvokeHttpAsync(HttpMethod.Post, "api/notifications", body);

        Assert.True(http.StatusCode == HttpStatusCode.Accepted, app.Describe(invocation));
        Assert.Equal(before, app.Bus.Received(HostedApp.QueueName).Count);
    }

    [Fact]
    public async Task ServiceBusRefusing_Is503_SoGraphRedelivers()
    {
        app.Bus.RefuseSends = ServiceBusTestDouble.SendRefusal.QuotaExceeded;
        try
        {
            using var body = new StringContent(Delivery(HostedApp.ClientState, "hook-user-3"), Encoding.UTF8, "application/json");
            var (http, invocation) = await app.InvokeHttpAsync(HttpMethod.Post, "api/notifications", body);

            Assert.True(http.StatusCode == HttpStatusCode.ServiceUnavailable, app.Describe(invocation));
        }
        finally
        {
            app.Bus.RefuseSends = ServiceBusTestDouble.SendRefusal.None;
        }
    }

    [Fact]
    public async Task WrongMethod_Is405WithAllow()
    {
        var (http, invocation) = await app.InvokeHttpAsync(HttpMethod.Get, "api/notifications");

        Assert.True(http.StatusCode == HttpStatusCode.MethodNotAllowed, app.Describe(invocation));
        Assert.Contains("POST", http.Content.Headers.Allow);
    }

    private static string Delivery(string clientState, params string[] userIds) =>
        "{\"value\":[" + string.Join(",", userIds.Select((id, i) => $$$"""
            {"subscriptionId":"0f6e7b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b","clientState":"{{{clientState}}}","changeType":"updated","resource":"Users/{{{id}}}","tenantId":"8d7c6b5a-4e3f-4a1b-9c8d-7e6f5a4b3c2d","subscriptionExpirationDateTime":"2026-12-20T00:00:00Z","resourceData":{"@odata.type":"#Microsoft.Graph.User","@odata.id":"Users/{{{id}}}","id":"{{{id}}}","sequenceNumber":{{{i + 1}}}}}
            """)) + "]}";
}
