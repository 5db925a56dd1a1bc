using System.Text.Json.Serialization;
using GenesysScimEmulator.Endpoints;
using GenesysScimEmulator.Http;
using GenesysScimEmulator.State;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace GenesysScimEmulator;

/// <summary>Everything the emulator registers and maps, shared by Program.cs and <see cref="EmulatorHost"/>.</summary>
public static partial class EmulatorRegistration
{
    public static WebApplicationBuilder AddGenesysScimEmulator(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EmulatorOptions>()
            .BindConfiguration(EmulatorOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // `--seed PATH` on the command line arrives as the configuration key "seed".
        var configuration = builder.Configuration;
        services.PostConfigure<EmulatorOptions>(options =>
        {
            if (string.IsNullOrEmpty(options.SeedPath) && configuration["seed"] is { Length: > 0 } seed)
            {
                options.SeedPath = seed;
            }
        });

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<EmulatorSettings>();
        services.AddSingleton<EmulatorStore>();
        services.AddSingleton<TokenStore>();
        services.AddSingleton<RequestCounters>();
        services.AddSingleton<FaultInjector>();
        services.AddSingleton<EmulatorState>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        return builder;
    }

    public static WebApplication UseGenesysScimEmulator(this WebApplication app)
    {
        app.UseMiddleware<CorrelationAndCountingMiddleware>();
        app.UseMiddleware<ErrorBodyMiddleware>();
        app.UseMiddleware<FaultMiddleware>();
        app.UseMiddleware<BearerTokenMiddleware>();

        app.MapTokenEndpoint();
        foreach (var (prefix, legacy) in new[] { (ScimHttp.V2Base, false), (ScimHttp.LegacyBase, true) })
        {
            var scim = app.MapGroup(prefix);
            scim.MapUserEndpoints(legacy);
            scim.MapGroupEndpoints(legacy);
            scim.MapDiscoveryEndpoints(legacy);
        }

        app.MapAdminEndpoints();
        app.MapFallback((HttpContext context) =>
        {
            throw new PlatformException(404, "not.found", $"No resource at {context.Request.Method} {context.Request.Path}.");
        });

        var state = app.Services.GetRequiredService<EmulatorState>();
        state.Reset();
        var (users, deleted, groups) = state.Store.Counts();
        LogReady(app.Logger, users + deleted, groups, state.Settings.Current.SeedPath ?? "(none)");
        return app;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Genesys SCIM emulator ready: {Users} users and {Groups} groups from seed {SeedPath}")]
    private static partial void LogReady(ILogger logger, int users, int groups, string seedPath);
}
