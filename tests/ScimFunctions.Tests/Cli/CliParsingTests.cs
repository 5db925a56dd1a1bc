namespace ScimFunctions.Tests.Cli;

public sealed class CliParsingTests
{
    [Fact]
    public async Task RootHelp_ListsTheContractCommands_AndHidesTheSampleGenerator()
    {
        var run = await new CliHarness().RunAsync("--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var command in new[] { "sync", "plan", "status", "explain", "staged" })
        {
            Assert.Contains($"  {command} ", run.Output, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("generate-samples", run.Output, StringComparison.Ordinal);
        Assert.Contains("Exit codes", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SyncHelp_NamesEveryOptionAndItsSetting_AndNeverShowsASecretFromTheEnvironment()
    {
        var harness = new CliHarness();
        harness.Settings["Scim__ClientSecret"] = "env-secret-value";
        harness.Settings["Scim__AccessToken"] = "env-token-value";
        harness.Settings["State__ConnectionString"] = "AccountKey=env-account-key";

        var run = await harness.RunAsync("sync", "--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var (option, setting) in new[]
        {
            ("--directory", "Directory__Source"), ("--graph-url", "Graph__BaseUrl"), ("--graph-token", "Graph__AccessToken"),
            ("--target", "Scim__Target"), ("--scim-url", "Scim__BaseUrl"), ("--scim-token", "Scim__AccessToken"),
            ("--genesys-client-id", "Scim__ClientId"), ("--genesys-client-secret", "Scim__ClientSecret"),
            ("--genesys-login-url", "Scim__LoginUrl"), ("--state", "State__ConnectionString"),
        })
        {
            Assert.Contains(option, run.Output, StringComparison.Ordinal);
            Assert.Contains($"Setting: {setting}.", run.Output, StringComparison.Ordinal);
        }

        Assert.Contains("--dry-run", run.Output, StringComparison.Ordinal);
        Assert.Contains("--json", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("env-", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownOption_ExitsOne_WithTheErrorAndAPointerToHelp_NotTheWholeHelp()
    {
        var run = await new CliHarness().RunAsync("sync", "--frobnicate");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--frobnicate", run.Error, StringComparison.Ordinal);
        Assert.Contains("Run 'scimfn sync --help'", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Options:", run.Output + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommand_ExitsOne()
    {
        var run = await new CliHarness().RunAsync("synchronise");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("synchronise", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_WithoutScimUrl_ExitsOne_NamingTheOptionAndTheSetting()
    {
        var harness = new CliHarness();

        var run = await harness.RunAsync("sync", "--directory", SampleFiles.Day1);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("scimfn: --scim-url (setting Scim__BaseUrl) is required", line, StringComparison.Ordinal);
        Assert.Null(harness.Engines.Settings);
    }

    [Theory]
    [InlineData("--target", "ldap", "--target (setting Scim__Target) must be 'genesys' or 'scim'")]
    [InlineData("--scim-url", "api.mypurecloud.com/scim", "--scim-url (setting Scim__BaseUrl) must be an absolute http(s) URL")]
    [InlineData("--graph-url", "ftp://graph", "--graph-url (setting Graph__BaseUrl) must be an absolute http(s) URL")]
    [InlineData("--directory", "no-such-snapshot.json", "--directory (setting Directory__Source): no snapshot file at 'no-such-snapshot.json'")]
    public async Task Sync_WithABadValue_ExitsOne_WithOneLineNamingTheOption(string option, string value, string expected)
    {
        var args = CliHarness.SyncArgs().ToList();
        var index = args.IndexOf(option);
        if (index >= 0)
        {
            args[index + 1] = value;
        }
        else
        {
            args.AddRange([option, value]);
        }

        var run = await new CliHarness().RunAsync([.. args]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"scimfn: {expected}", Assert.Single(run.ErrorLines)[..($"scimfn: {expected}".Length)]);
        Assert.DoesNotContain("s3cr3t-value", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_ScimTargetWithoutToken_ExitsOne_NamingTheTokenOption()
    {
        var run = await new CliHarness().RunAsync("sync", "--directory", SampleFiles.Day1, "--target", "scim", "--scim-url", "https://scim.example.com/scim/v2");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("scimfn: --scim-token (setting Scim__AccessToken) is required for --target scim", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_GenesysWithoutClientSecret_ExitsOne_NamingTheSecretOption()
    {
        var run = await new CliHarness().RunAsync("sync", "--directory", SampleFiles.Day1, "--scim-url", "https://api.mypurecloud.com/api/v2/scim/v2", "--genesys-client-id", "id");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("scimfn: --genesys-client-secret (setting Scim__ClientSecret) is required", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://api.mypurecloud.ie/api/v2/scim/v2", "https://login.mypurecloud.ie/")]
    [InlineData("https://api.usw2.pure.cloud/api/v2/scim/v2", "https://login.usw2.pure.cloud/")]
    [InlineData("https://API.mypurecloud.com.au/api/v2/scim/v2", "https://login.mypurecloud.com.au/")]
    public async Task Sync_GenesysLoginUrl_IsDerivedFromTheRegionOfTheScimUrl(string scimUrl, string expectedLogin)
    {
        var harness = new CliHarness();

        var run = await harness.RunAsync("sync", "--directory", SampleFiles.Day1, "--scim-url", scimUrl, "--genesys-client-id", "id", "--genesys-client-secret", "secret");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(expectedLogin, harness.Engines.Settings!.Target!.LoginUrl!.ToString());
    }

    [Fact]
    public async Task Sync_LoginUrlNotDerivable_ExitsOne_AskingForTheLoginUrl()
    {
        var run = await new CliHarness().RunAsync("sync", "--directory", SampleFiles.Day1, "--scim-url", "http://127.0.0.1:5000/api/v2/scim/v2", "--genesys-client-id", "id", "--genesys-client-secret", "secret");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("scimfn: --genesys-login-url (setting Scim__LoginUrl) is required", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_TakesEveryValueFromTheSettings_WhenNoOptionIsGiven()
    {
        var harness = new CliHarness();
        harness.Settings["Directory__Source"] = SampleFiles.Day2;
        harness.Settings["Scim__Target"] = "scim";
        harness.Settings["Scim__BaseUrl"] = "https://scim.example.com/scim/v2";
        harness.Settings["Scim__AccessToken"] = "token-from-env";
        harness.Settings["State__ConnectionString"] = "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1";

        var run = await harness.RunAsync("sync");

        Assert.Equal(0, run.ExitCode);
        var settings = harness.Engines.Settings!;
        Assert.Equal(SampleFiles.Day2, settings.Directory!.SnapshotPath);
        Assert.Equal("scim", settings.Target!.Kind);
        Assert.Equal("token-from-env", settings.Target.Token);
        Assert.Equal("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1", settings.StateConnection);
    }

    [Fact]
    public async Task Sync_OptionsWinOverSettings_AndTheEngineSeesThemUnderTheSettingKeys()
    {
        var harness = new CliHarness();
        harness.Settings["Scim__BaseUrl"] = "https://api.mypurecloud.com/api/v2/scim/v2";
        harness.Settings["Scim__ClientId"] = "env-client";
        harness.Settings["Scim__MaxRequestsPerMinute"] = "120";

        var run = await harness.RunAsync(CliHarness.SyncArgs("--state", "UseDevelopmentStorage=true"));

        Assert.Equal(0, run.ExitCode);
        var merged = harness.Engines.Settings!.Settings;
        Assert.Equal("https://api.mypurecloud.ie/api/v2/scim/v2", merged["Scim:BaseUrl"]);
        Assert.Equal("id", merged["Scim:ClientId"]);
        Assert.Equal("120", merged["Scim:MaxRequestsPerMinute"]);
        Assert.Equal("https://graph.microsoft.com/v1.0", harness.Engines.Settings.Directory!.GraphUrl.ToString().TrimEnd('/'));
    }

    [Fact]
    public async Task Sync_DirectoryDefaultsToGraph()
    {
        var harness = new CliHarness();

        var run = await harness.RunAsync("sync", "--scim-url", "https://api.mypurecloud.com/api/v2/scim/v2", "--scim-token", "t");

        Assert.Equal(0, run.ExitCode);
        Assert.Null(harness.Engines.Settings!.Directory!.SnapshotPath);
        Assert.Equal("UseDevelopmentStorage=true", harness.Engines.Settings.StateConnection);
    }
}
