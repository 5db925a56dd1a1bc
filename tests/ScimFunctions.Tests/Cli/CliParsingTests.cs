using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.State;

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
        harness.Settings["Scim__BearerToken"] = "env-token-value";
        harness.Settings["State__ConnectionString"] = "AccountKey=env-account-key";

        var run = await harness.RunAsync("sync", "--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var (option, setting) in new[]
        {
            ("--directory", "Scimfn__Directory"), ("--graph-url", "Graph__BaseUrl"), ("--graph-token", "Graph__StaticToken"),
            ("--target", "Scim__Profile"), ("--scim-url", "Scim__BaseUrl"), ("--scim-token", "Scim__BearerToken"),
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
    public async Task MalformedState_IsRefusedWithTheHostsOwnMessage_NamingTheOption_WithoutQuotingIt()
    {
        const string bad = "AccountName=acct;AccountKey=c2VjcmV0LWtleQ==;Nonsense";
        var hosts = Assert.Single(new StateOptionsValidator().Failures(new StateOptions { ConnectionString = bad }));

        var run = await new CliHarness().RunAsync("status", "--state", bad);

        // The CLI runs the validator the host runs at start; only "Setting X" becomes the option that sets X.
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--state", run.Error, StringComparison.Ordinal);
        Assert.Contains(hosts["Setting State__ConnectionString".Length..], run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LWtleQ", run.Output + run.Error, StringComparison.Ordinal);
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
    [InlineData("--target", "ldap", "--target (setting Scim__Profile) must be 'genesys' or 'scim'")]
    [InlineData("--scim-url", "api.mypurecloud.com/scim", "--scim-url (setting Scim__BaseUrl) must be an absolute http(s) URL")]
    [InlineData("--scim-url", "http://api.mypurecloud.com/api/v2/scim/v2", "--scim-url (setting Scim__BaseUrl) must use https")]
    [InlineData("--directory", "no-such-snapshot.json", "--directory (setting Scimfn__Directory): no snapshot file at 'no-such-snapshot.json'")]
    [InlineData("--state", "https://example.table.core.windows.net?sig=x", "")]
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

        var harness = new CliHarness();
        var run = await harness.RunAsync([.. args]);

        if (expected.Length == 0)
        {
            // A table service URI is accepted as the state location (signed in with the operator's identity).
            Assert.Equal(0, run.ExitCode);
            Assert.Equal(value, harness.Engines.Settings!.Settings["State:TableServiceUri"]);
            Assert.Equal("", harness.Engines.Settings.Settings["State:ConnectionString"]);
            return;
        }

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"scimfn: {expected}", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-value", run.Error, StringComparison.Ordinal);
        Assert.Null(harness.Engines.Settings);
    }

    [Fact]
    public async Task Sync_FromGraph_ChecksTheGraphSettings_NamingTheOption()
    {
        var run = await new CliHarness().RunAsync("sync", "--directory", "graph", "--graph-url", "ftp://graph", "--target", "scim", "--scim-url", "https://scim.example.com/scim/v2", "--scim-token", "t");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("scimfn: --graph-url (setting Graph__BaseUrl) must be an absolute https URL", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_GraphToken_SelectsTokenCredential_WithoutEchoingTheToken()
    {
        var harness = new CliHarness();

        var run = await harness.RunAsync("sync", "--graph-token", "graph-secret-token", "--target", "scim", "--scim-url", "https://scim.example.com/scim/v2", "--scim-token", "t");

        Assert.Equal(0, run.ExitCode);
        var settings = harness.Engines.Settings!.Settings;
        Assert.Equal("token", settings["Graph:Credential"]);
        Assert.Equal("graph-secret-token", settings["Graph:StaticToken"]);
        Assert.DoesNotContain("graph-secret-token", run.Output + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_ScimTargetWithoutToken_ExitsOne_NamingTheTokenOption()
    {
        var run = await new CliHarness().RunAsync("sync", "--directory", SampleFiles.Day1, "--target", "scim", "--scim-url", "https://scim.example.com/scim/v2");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("scimfn: --scim-token (setting Scim__BearerToken) is required for the scim profile", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_GenesysWithoutClientSecret_ExitsOne_NamingTheSecretOption()
    {
        var run = await new CliHarness().RunAsync("sync", "--directory", SampleFiles.Day1, "--scim-url", "https://api.mypurecloud.com/api/v2/scim/v2", "--genesys-client-id", "id");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("scimfn: --genesys-client-secret (setting Scim__ClientSecret) is required for the genesys profile", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://api.mypurecloud.ie/api/v2/scim/v2")]
    [InlineData("http://127.0.0.1:5000/api/v2/scim/v2")]
    public async Task Sync_GenesysLoginUrl_IsNotNeeded_WhenItCanBeDerivedFromTheScimUrl(string scimUrl)
    {
        var harness = new CliHarness();

        var run = await harness.RunAsync("sync", "--directory", SampleFiles.Day1, "--scim-url", scimUrl, "--genesys-client-id", "id", "--genesys-client-secret", "secret");

        Assert.Equal(0, run.ExitCode);
        Assert.Null(harness.Engines.Settings!.Settings["Scim:LoginUrl"]);
    }

    [Fact]
    public async Task Sync_LoginUrlNotDerivable_ExitsOne_AskingForTheLoginUrl()
    {
        var run = await new CliHarness().RunAsync("sync", "--directory", SampleFiles.Day1, "--scim-url", "https://scim.example.com/api/v2/scim/v2", "--genesys-client-id", "id", "--genesys-client-secret", "secret");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("scimfn: --genesys-login-url (setting Scim__LoginUrl) is required", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_TakesEveryValueFromTheSettings_WhenNoOptionIsGiven()
    {
        var harness = new CliHarness();
        harness.Settings["Scimfn__Directory"] = SampleFiles.Day2;
        harness.Settings["Scim__Profile"] = "scim";
        harness.Settings["Scim__BaseUrl"] = "https://scim.example.com/scim/v2";
        harness.Settings["Scim__BearerToken"] = "token-from-env";
        harness.Settings["State__ConnectionString"] = "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1";

        var run = await harness.RunAsync("sync");

        Assert.Equal(0, run.ExitCode);
        var engine = harness.Engines.Settings!;
        Assert.True(engine.Connected);
        Assert.Equal(SampleFiles.Day2, engine.SnapshotPath);
        Assert.Equal("scim", engine.Settings["Scim:Profile"]);
        Assert.Equal("token-from-env", engine.Settings["Scim:BearerToken"]);
        Assert.Equal("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1", engine.Settings["State:ConnectionString"]);
    }

    [Fact]
    public async Task Sync_OptionsWinOverSettings_AndTheEngineSeesThemUnderTheSettingKeys()
    {
        var harness = new CliHarness();
        harness.Settings["Scim__BaseUrl"] = "https://api.mypurecloud.com/api/v2/scim/v2";
        harness.Settings["Scim__ClientId"] = "env-client";
        harness.Settings["Scim__RequestsPerMinute"] = "120";

        var run = await harness.RunAsync(CliHarness.SyncArgs("--state", "UseDevelopmentStorage=true"));

        Assert.Equal(0, run.ExitCode);
        var merged = harness.Engines.Settings!.Settings;
        Assert.Equal("https://api.mypurecloud.ie/api/v2/scim/v2", merged["Scim:BaseUrl"]);
        Assert.Equal("id", merged["Scim:ClientId"]);
        Assert.Equal("120", merged["Scim:RequestsPerMinute"]);
    }

    [Fact]
    public async Task Sync_SettingRejectedByTheEngine_ExitsOne_NamingTheSetting()
    {
        var harness = new CliHarness();
        harness.Settings["Scim__RequestsPerMinute"] = "0";

        var run = await harness.RunAsync(CliHarness.SyncArgs());

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("scimfn: Setting Scim__RequestsPerMinute must be between 1 and 100000", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_DirectoryDefaultsToGraph_AndStateToTheLocalEmulator()
    {
        var harness = new CliHarness();

        var run = await harness.RunAsync("sync", "--target", "scim", "--scim-url", "https://scim.example.com/scim/v2", "--scim-token", "t");

        Assert.Equal(0, run.ExitCode);
        Assert.Null(harness.Engines.Settings!.SnapshotPath);
        Assert.Equal("UseDevelopmentStorage=true", harness.Engines.Settings.Settings["State:ConnectionString"]);
    }

    [Fact]
    public async Task Sync_StateFromTableServiceUriSetting_IsNotOverriddenByTheLocalDefault()
    {
        var harness = new CliHarness();
        harness.Settings["State__TableServiceUri"] = "https://contoso.table.core.windows.net";

        var run = await harness.RunAsync(CliHarness.SyncArgs());

        Assert.Equal(0, run.ExitCode);
        Assert.Null(harness.Engines.Settings!.Settings["State:ConnectionString"]);
    }
}
