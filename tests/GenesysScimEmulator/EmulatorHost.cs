using GenesysScimEmulator.Http;
using GenesysScimEmulator.State;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace GenesysScimEmulator;

/// <summary>Starts the emulator in-process on a real 127.0.0.1 port, for tests, benchmarks and the CLI:
/// <code>
/// await using var emulator = await EmulatorHost.StartAsync(o => o.ConflictStatus = 409);
/// // emulator.ScimBaseUrl  = http://127.0.0.1:PORT/api/v2/scim/v2
/// // emulator.TokenUrl     = http://127.0.0.1:PORT/oauth/token   (local-client / local-secret)
/// // emulator.State        = store, tokens, counters, faults, settings
/// </code>
/// Configuration files and environment variables are not read: what the configure delegate sets is
/// all there is, so tests stay hermetic. For TestServer instead of a port, use
/// <c>WebApplicationFactory&lt;EmulatorOptions&gt;</c> (any public emulator type marks the assembly; it runs
/// Program.cs with appsettings.json and environment variables).</summary>
public static class EmulatorHost
{
    public static async Task<RunningEmulator> StartAsync(
        Action<EmulatorOptions>? configure = null,
        TimeProvider? timeProvider = null,
        int port = 0,
        CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(EmulatorHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.AddGenesysScimEmulator();
        if (timeProvider is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(timeProvider));
        }

        if (configure is not null)
        {
            builder.Services.PostConfigure(configure);
        }

        var app = builder.Build();
        app.UseGenesysScimEmulator();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningEmulator(app, new Uri(address.TrimEnd('/') + "/"));
    }
}

/// <summary>A started emulator. Dispose to stop it.</summary>
public sealed class RunningEmulator(WebApplication app, Uri baseAddress) : IAsyncDisposable
{
    /// <summary><c>http://127.0.0.1:PORT/</c></summary>
    public Uri BaseAddress { get; } = baseAddress;

    /// <summary><c>http://127.0.0.1:PORT/api/v2/scim/v2</c> (no trailing slash), the Genesys "Tenant URL".</summary>
    public string ScimBaseUrl => $"{BaseAddress.GetLeftPart(UriPartial.Authority)}{ScimHttp.V2Base}";

    /// <summary><c>http://127.0.0.1:PORT/api/v2/scim</c>, the legacy base.</summary>
    public string LegacyScimBaseUrl => $"{BaseAddress.GetLeftPart(UriPartial.Authority)}{ScimHttp.LegacyBase}";

    /// <summary><c>http://127.0.0.1:PORT/oauth/token</c></summary>
    public string TokenUrl => $"{BaseAddress.GetLeftPart(UriPartial.Authority)}/oauth/token";

    /// <summary><c>http://127.0.0.1:PORT/_emulator</c></summary>
    public string AdminUrl => $"{BaseAddress.GetLeftPart(UriPartial.Authority)}{RequestKind.AdminEndpointsPrefix}";

    public string ClientId => State.Settings.Current.ClientId;

    public string ClientSecret => State.Settings.Current.ClientSecret;

    public EmulatorState State => app.Services.GetRequiredService<EmulatorState>();

    public IServiceProvider Services => app.Services;

    /// <summary>A bearer token issued directly (not counted as a token request).</summary>
    public string IssueToken() => State.Tokens.Issue().AccessToken;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
