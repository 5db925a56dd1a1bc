using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Tests.Directory;

/// <summary>Section <c>Graph</c>: every bad setting is refused at start with the setting's name.</summary>
public sealed class GraphSettingsTests
{
    [Fact]
    public void Defaults_AreValidForManagedIdentity()
    {
        Assert.Empty(GraphOptionsValidator.Check(new GraphOptions()));
        Assert.Equal("https://graph.microsoft.com/v1.0", new GraphOptions().BaseUrl);
    }

    [Theory]
    [InlineData("clientsecret", "Graph__TenantId")]
    [InlineData("clientsecret", "Graph__ClientId")]
    [InlineData("clientsecret", "Graph__ClientSecret")]
    [InlineData("certificate", "Graph__CertificatePath")]
    [InlineData("token", "Graph__StaticToken")]
    [InlineData("password", "Graph__Credential")]
    public void Credential_MissingItsSettings_NamesTheSetting(string credential, string setting)
    {
        var errors = GraphOptionsValidator.Check(new GraphOptions { Credential = credential });

        Assert.Contains(errors, e => e.Contains(setting, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("graph.microsoft.com/v1.0")]
    [InlineData("http://graph.microsoft.com/v1.0")]
    [InlineData("ftp://127.0.0.1/v1.0")]
    public void BaseUrl_NotHttpsOrLoopbackHttp_IsRefused(string baseUrl)
    {
        var errors = GraphOptionsValidator.Check(new GraphOptions { BaseUrl = baseUrl });

        Assert.Contains(errors, e => e.Contains("Graph__BaseUrl", StringComparison.Ordinal));
    }

    [Fact]
    public void BaseUrl_LoopbackHttp_IsAllowedForTheGraphDouble()
    {
        Assert.Empty(GraphOptionsValidator.Check(new GraphOptions { BaseUrl = "http://127.0.0.1:5055/v1.0", Credential = "token", StaticToken = "t" }));
    }

    [Fact]
    public void UserSelect_NotAPropertyName_IsRefused()
    {
        var errors = GraphOptionsValidator.Check(new GraphOptions { UserSelect = "companyName,bad name,$expand" });

        Assert.Equal(2, errors.Count(e => e.Contains("Graph__UserSelect", StringComparison.Ordinal)));
    }

    [Fact]
    public void CertificatePath_Missing_NamesThePath()
    {
        var errors = GraphOptionsValidator.Check(new GraphOptions { Credential = "certificate", TenantId = "t", ClientId = "c", CertificatePath = "/nowhere/cert.pfx" });

        Assert.Contains(errors, e => e.Contains("/nowhere/cert.pfx", StringComparison.Ordinal));
    }

    [Fact]
    public void StaticToken_IsNeverInAnError()
    {
        var errors = GraphOptionsValidator.Check(new GraphOptions { BaseUrl = "bad", Credential = "token", StaticToken = "secret-token-value" });

        Assert.DoesNotContain(errors, e => e.Contains("secret-token-value", StringComparison.Ordinal));
    }

    [Fact]
    public void SubscriptionOptions_Defaults_StartWithoutANotificationUrlButCannotCreate()
    {
        // First deployment: the URL (with the function key) does not exist until the host has run once.
        Assert.Empty(GraphSubscriptionOptionsValidator.Check(new GraphSubscriptionOptions()));
        Assert.Contains("Graph__NotificationUrl", GraphSubscriptionOptionsValidator.CheckNotificationUrl(new GraphSubscriptionOptions()), StringComparison.Ordinal);
        Assert.Null(GraphSubscriptionOptionsValidator.CheckNotificationUrl(new GraphSubscriptionOptions { NotificationUrl = "https://x.example/api/n?code=k" }));
    }

    [Theory]
    [InlineData(41_761, 60, "Graph__SubscriptionLifetimeMinutes")]
    [InlineData(200, 60, "at least 180 minutes")]
    [InlineData(41_760, -1, "Graph__SubscriptionSafetyMarginMinutes")]
    public void SubscriptionOptions_LifetimeOutOfRange_IsRefused(int lifetime, int margin, string expected)
    {
        var errors = GraphSubscriptionOptionsValidator.Check(new GraphSubscriptionOptions
        {
            NotificationUrl = "https://x.example/api/n",
            SubscriptionLifetimeMinutes = lifetime,
            SubscriptionSafetyMarginMinutes = margin,
        });

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/users", true)]
    [InlineData("/groups", true)]
    [InlineData("/groups/abc/members", true)]
    [InlineData("/users/abc", true)]
    [InlineData("users", false)]
    [InlineData("/me/messages", false)]
    [InlineData("/groups/abc/owners", false)]
    [InlineData("/users//", false)]
    public void SubscriptionResources_OnlyUsersAndGroups(string resource, bool supported)
    {
        Assert.Equal(supported, GraphSubscriptionOptionsValidator.IsSupportedResource(resource));
    }

    [Fact]
    public void SubscriptionOptions_NotificationUrlNotHttps_IsRefusedWithoutEchoingTheKey()
    {
        var error = GraphSubscriptionOptionsValidator.CheckNotificationUrl(new GraphSubscriptionOptions { NotificationUrl = "http://x.example/api/n?code=secret-key" });

        Assert.NotNull(error);
        Assert.Contains("Graph__NotificationUrl", error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-key", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGraphDirectory_InvalidSettings_FailsOnResolveNamingTheSettings()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Graph:Credential"] = "clientsecret",
            ["Graph:TenantId"] = "contoso.onmicrosoft.com",
        }).Build();
        using var provider = new ServiceCollection().AddLogging().AddGraphDirectory(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<GraphOptions>>().Value);

        Assert.Contains("Graph__ClientId", error.Message, StringComparison.Ordinal);
        Assert.Contains("Graph__ClientSecret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SubscriptionResources_StillSet_IsRefusedAsNotRead()
    {
        // The keeper subscribes to what the scope needs; a setting that looked like it chose the resources
        // was validated and then ignored. A deployment still setting it is told so at start.
        var errors = GraphSubscriptionOptionsValidator.Check(new GraphSubscriptionOptions { SubscriptionResources = "/users" });

        var error = Assert.Single(errors);
        Assert.Contains("Graph__SubscriptionResources is no longer read", error, StringComparison.Ordinal);
        Assert.Contains("Sync__Groups__Enabled", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGraphDirectory_ValidSettings_ResolvesTheGraphSourceAndSubscriptions()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Graph:BaseUrl"] = "http://127.0.0.1:5055/v1.0",
            ["Graph:Credential"] = "token",
            ["Graph:StaticToken"] = "t",
            ["Graph:NotificationUrl"] = "https://x.example/api/GraphNotifications?code=k",
            ["Notifications:ClientState"] = "a-client-state-of-enough-length",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddOptions<Provisioning.Notifications.NotificationOptions>().BindConfiguration(Provisioning.Notifications.NotificationOptions.Section);
        services.AddSingleton<IConfiguration>(configuration);
        using var provider = services.AddGraphDirectory(configuration).AddGraphSubscriptions(configuration).BuildServiceProvider();

        Assert.IsType<GraphDirectorySource>(provider.GetRequiredService<IDirectorySource>());
        Assert.IsType<GraphSubscriptionManager>(provider.GetRequiredService<IGraphSubscriptions>());
    }

    [Fact]
    public void LocalSettingsSample_GraphBlock_BindsAndValidates()
    {
        var sample = FindUp("local.settings.sample.json");
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(sample));
        var values = document.RootElement.GetProperty("Values").EnumerateObject()
            .Where(p => p.Name.StartsWith("Graph__", StringComparison.Ordinal))
            .ToDictionary(p => p.Name.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value.GetString());
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(GraphOptions.Section);

        var options = configuration.Get<GraphOptions>()!;
        var subscriptions = configuration.Get<GraphSubscriptionOptions>()!;

        Assert.True(values.Count >= 15);
        Assert.Empty(GraphOptionsValidator.Check(options));
        Assert.Empty(GraphSubscriptionOptionsValidator.Check(subscriptions));
    }

    private static string FindUp(string name)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{name} not found above {AppContext.BaseDirectory}");
    }
}
