using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimErrorsTests
{
    [Fact]
    public void Parse_ScimShapeWithStringStatus()
    {
        var error = ScimErrors.Parse(400, """{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidVers","detail":"stale"}""", "corr-1");

        Assert.Equal(new ScimError(400, "invalidVers", "stale", "corr-1"), error);
    }

    [Fact]
    public void Parse_GenesysErrorBodyWithNumericStatusCodeAndContextId()
    {
        var error = ScimErrors.Parse(429, """{"message":"Rate limit exceeded the maximum. Retry the request in [3] seconds","code":"too.many.requests.retry.after","status":429,"contextId":"ctx-9"}""", null);

        Assert.Equal(429, error.Status);
        Assert.Null(error.ScimType);
        Assert.Equal("Rate limit exceeded the maximum. Retry the request in [3] seconds (too.many.requests.retry.after)", error.Detail);
        Assert.Equal("ctx-9", error.CorrelationId);
    }

    [Fact]
    public void Parse_HeaderCorrelationIdWinsOverContextId() =>
        Assert.Equal("header", ScimErrors.Parse(500, """{"contextId":"body"}""", "header").CorrelationId);

    [Theory]
    [InlineData(null, "Bad Gateway")]
    [InlineData("", "Bad Gateway")]
    [InlineData("<html>oops</html>", "<html>oops</html>")]
    [InlineData("[1,2]", "[1,2]")]
    public void Parse_BodyThatIsNotAnErrorObject_KeepsTheTextOrReason(string? body, string detail) =>
        Assert.Equal(detail, ScimErrors.Parse(502, body, null, "Bad Gateway").Detail);

    [Theory]
    [InlineData("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"409\",\"scimType\":\"uniqueness\",\"detail\":\"User with userName 'jane.doe@example.org' already exists\"}", "already exists")]
    [InlineData("{\"message\":\"Value \\\"Jane Q. Doe\\\" is invalid for attribute displayName, phone +353 1 234 5678\",\"code\":\"bad.request\",\"status\":400,\"contextId\":\"c-1\"}", "(bad.request)")]
    [InlineData("{\"detail\":\"The email jane.doe@example.org is already used by user 1234567890123\"}", "is already used by user")]
    public void Parse_DetailEchoingValues_KeepsTheMessageAndCodeButDropsTheValues(string body, string kept)
    {
        var error = ScimErrors.Parse(409, body, null);

        Assert.Contains(kept, error.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("jane.doe", error.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Jane Q. Doe", error.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("234 5678", error.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("1234567890123", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LongBody_IsTruncated() => Assert.Equal(500, ScimErrors.Parse(500, new string('x', 5000), null).Detail.Length);

    [Theory]
    [InlineData(ScimTargetProfile.Genesys, "PATCH", 400, "invalidVers", ScimOutcome.VersionConflict)]
    [InlineData(ScimTargetProfile.Genesys, "PATCH", 409, null, ScimOutcome.VersionConflict)]
    [InlineData(ScimTargetProfile.Genesys, "PUT", 409, null, ScimOutcome.VersionConflict)]
    [InlineData(ScimTargetProfile.Genesys, "DELETE", 409, null, ScimOutcome.VersionConflict)]
    [InlineData(ScimTargetProfile.Genesys, "POST", 409, null, ScimOutcome.Uniqueness)]
    [InlineData(ScimTargetProfile.Genesys, "PATCH", 412, null, ScimOutcome.VersionConflict)]
    [InlineData(ScimTargetProfile.Scim, "PATCH", 412, null, ScimOutcome.VersionConflict)]
    [InlineData(ScimTargetProfile.Scim, "PUT", 409, "uniqueness", ScimOutcome.Uniqueness)]
    [InlineData(ScimTargetProfile.Scim, "POST", 409, "uniqueness", ScimOutcome.Uniqueness)]
    [InlineData(ScimTargetProfile.Scim, "POST", 400, "invalidValue", ScimOutcome.InvalidValue)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 304, null, ScimOutcome.NotModified)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 404, null, ScimOutcome.NotFound)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 401, null, ScimOutcome.Unauthorized)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 403, null, ScimOutcome.Unauthorized)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 429, null, ScimOutcome.Throttled)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 408, null, ScimOutcome.Transient)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 500, null, ScimOutcome.Transient)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 503, null, ScimOutcome.Transient)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 504, null, ScimOutcome.Transient)]
    [InlineData(ScimTargetProfile.Genesys, "GET", 501, null, ScimOutcome.Permanent)]
    [InlineData(ScimTargetProfile.Genesys, "POST", 413, null, ScimOutcome.Permanent)]
    [InlineData(ScimTargetProfile.Genesys, "POST", 415, null, ScimOutcome.Permanent)]
    public void Classify_MapsStatusMethodAndScimType(ScimTargetProfile profile, string method, int status, string? scimType, ScimOutcome expected) =>
        Assert.Equal(expected, ScimErrors.Classify(profile, new HttpMethod(method), status, scimType));
}
