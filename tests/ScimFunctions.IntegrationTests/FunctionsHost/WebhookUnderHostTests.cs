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
    public async Task WrongMethod_Is405WithAllow()
    {
        var (http, invocation) = await app.InvokeHttpAsync(HttpMethod.Get, "api/notifications");

        Assert.True(http.StatusCode == HttpStatusCode.MethodNotAllowed, app.Describe(invocation));
        Assert.Contains("POST", http.Content.Headers.Allow);
    }
}
