using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimOptionsTests
{
    [Theory]
    [InlineData("https://api.mypurecloud.ie/api/v2/scim/v2")]
    [InlineData("https://api.usw2.pure.cloud/api/v2/scim")]
    [InlineData("http://127.0.0.1:5080/api/v2/scim/v2")]
    [InlineData("http://127.12.0.9/api/v2/scim/v2")]
    [InlineData("http://[::1]:8080/api/v2/scim/v2")]
    [InlineData("http://localhost:5000/api/v2/scim/v2")]
    public void Validate_AcceptsHttpsAndLoopbackHttp(string baseUrl) => Assert.Empty(ScimRegistration.Validate(Genesys(baseUrl)));

    [Theory]
    [InlineData("http://api.mypurecloud.com/api/v2/scim/v2")]
    [InlineData("http://10.0.0.5/scim")]
    [InlineData("http://128.0.0.1/scim")]
    [InlineData("http://localhost.example.com/scim")]
    [InlineData("http://[::2]/scim")]
    public void Validate_RefusesPlainHttpToAnythingButLoopback(string baseUrl)
    {
        var failure = Assert.Single(ScimRegistration.Validate(Scim(baseUrl)));

        Assert.Contains("Scim__BaseUrl must use https", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("scimratebudget", 300, null)]
    [InlineData("ab", 300, "Scim__SharedBudgetTable must be a Table Storage table name")]
    [InlineData("9budget", 300, "Scim__SharedBudgetTable must be a Table Storage table name")]
    [InlineData("scim-rate", 300, "Scim__SharedBudgetTable must be a Table Storage table name")]
    [InlineData("scimratebudget", 13, "Scim__RequestsPerMinute must be at least 14 with Scim__SharedBudgetTable")]
    public void Validate_SharedBudgetTable(string table, int requestsPerMinute, string? message)
    {
        var options = Genesys("https://api.mypurecloud.ie/api/v2/scim/v2");
        options.SharedBudgetTable = table;
        options.RequestsPerMinute = requestsPerMinute;
        options.RequestBurst = 5;

        var failures = ScimRegistration.Validate(options);

        if (message is null)
        {
            Assert.Empty(failures);
        }
        else
        {
            Assert.Contains(failures, f => f.Contains(message, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("ftp://api.mypurecloud.com/scim", "absolute http(s) URL")]
    [InlineData("api.mypurecloud.com/scim", "absolute http(s) URL")]
    [InlineData("https://user:secret-in-url@api.mypurecloud.com/scim", "must not carry credentials")]
    [InlineData("https://api.mypurecloud.com/scim?x=1", "query or fragment")]
    public void Validate_RefusesMalformedUrls(string baseUrl, string message)
    {
        var failures = ScimRegistration.Validate(Scim(baseUrl));

        Assert.Contains(failures, f => f.Contains("Scim__BaseUrl", StringComparison.Ordinal) && f.Contains(message, StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("secret-in-url", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_Genesys_NamesEveryMissingSettingAndNeverEchoesSecrets()
    {
        var failures = ScimRegistration.Validate(new ScimOptions { Profile = "genesys", ClientSecret = "very-secret-value" });

        Assert.Contains(failures, f => f.StartsWith("Setting Scim__BaseUrl is required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Setting Scim__ClientId is required", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("Scim__ClientSecret", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("very-secret-value", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_Scim_RequiresABearerToken() =>
        Assert.Contains(ScimRegistration.Validate(new ScimOptions { Profile = "scim", BaseUrl = "https://scim.example.com/v2" }),
            f => f.StartsWith("Setting Scim__BearerToken is required", StringComparison.Ordinal));

    [Theory]
    [InlineData("okta")]
    [InlineData("")]
    public void Validate_UnknownProfile_IsNamed(string profile) =>
        Assert.Contains(ScimRegistration.Validate(new ScimOptions { Profile = profile, BaseUrl = "https://x.example.com" }),
            f => f.StartsWith("Setting Scim__Profile must be 'genesys' or 'scim'", StringComparison.Ordinal));

    [Fact]
    public void Validate_RangesAndCrossChecks_NameTheirSettings()
    {
        var options = Scim("https://scim.example.com");
        options.RequestsPerMinute = 10;
        options.RequestBurst = 10;
        options.MemberChunkSize = 0;
        options.AttemptTimeout = TimeSpan.FromSeconds(50);
        options.MemberRemoveStyle = "bulk";

        var failures = ScimRegistration.Validate(options);

        Assert.Contains(failures, f => f.Contains("Scim__RequestBurst must be less than Scim__RequestsPerMinute", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Scim__MemberChunkSize", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Scim__AttemptTimeout must be shorter than Scim__CallTimeBudget", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Scim__MemberRemoveStyle", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_CreateGroupsOnGenesys_IsRefused() =>
        Assert.Contains(ScimRegistration.Validate(WithCreateGroups(Genesys("https://api.mypurecloud.com/api/v2/scim/v2"))),
            f => f.StartsWith("Setting Scim__CreateGroups applies to the scim profile only", StringComparison.Ordinal));

    [Theory]
    [InlineData("https://api.mypurecloud.ie/api/v2/scim/v2", null, "https://login.mypurecloud.ie/oauth/token")]
    [InlineData("https://api.usw2.pure.cloud/api/v2/scim", null, "https://login.usw2.pure.cloud/oauth/token")]
    [InlineData("http://127.0.0.1:5080/api/v2/scim/v2", null, "http://127.0.0.1:5080/oauth/token")]
    [InlineData("https://api.mypurecloud.com/api/v2/scim/v2", "https://login.example.test/base", "https://login.example.test/base/oauth/token")]
    public void TokenEndpoint_IsDerivedFromTheRegion(string baseUrl, string? loginUrl, string expected)
    {
        var options = Genesys(baseUrl);
        options.LoginUrl = loginUrl;

        Assert.Equal(new Uri(expected), options.TokenEndpoint);
    }

    [Fact]
    public void Validate_GenesysBaseUrlWithoutApiHost_NeedsLoginUrl() =>
        Assert.Contains(ScimRegistration.Validate(Genesys("https://gateway.example.com/api/v2/scim/v2")),
            f => f.StartsWith("Setting Scim__LoginUrl is required", StringComparison.Ordinal));

    [Fact]
    public void Validate_PlainHttpLoginUrl_IsRefused()
    {
        var options = Genesys("https://api.mypurecloud.com/api/v2/scim/v2");
        options.LoginUrl = "http://login.mypurecloud.com";

        Assert.Contains(ScimRegistration.Validate(options), f => f.Contains("Scim__LoginUrl must use https", StringComparison.Ordinal));
    }

    [Fact]
    public void Create_WithInvalidOptions_ThrowsNamingTheSetting()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => ScimClient.Create(new ScimOptions { Profile = "scim" }));

        Assert.Contains("Scim__BaseUrl", error.Message, StringComparison.Ordinal);
    }

    private static ScimOptions Genesys(string baseUrl) => new() { Profile = "genesys", BaseUrl = baseUrl, ClientId = "id", ClientSecret = "secret" };

    private static ScimOptions Scim(string baseUrl) => new() { Profile = "scim", BaseUrl = baseUrl, BearerToken = "token" };

    private static ScimOptions WithCreateGroups(ScimOptions options)
    {
        options.CreateGroups = true;
        return options;
    }
}
