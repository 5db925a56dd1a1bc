using System.Net.Http.Headers;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Registers the SCIM target: settings, the shared limiter and token cache, and the typed client.</summary>
public static class ScimRegistration
{
    /// <summary>Binds section <c>Scim</c>, validates it at start (messages name the setting), and registers
    /// <see cref="IScimClient"/> as a typed HttpClient with the handler chain described on <see cref="ScimResilience"/>.</summary>
    public static IServiceCollection AddScimTarget(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ScimOptions>()
            .Bind(configuration.GetSection(ScimOptions.Section))
            .ValidateOnStart();
        AddClient(services);

        // scim profile: read what the target supports at start; refuse one the connector cannot work with.
        services.AddHostedService<ScimTargetCheck>();
        return services;
    }

    /// <summary>Every problem with <paramref name="options"/>, each naming its setting; empty when valid (<see cref="ScimOptionsValidator"/>).</summary>
    public static IReadOnlyList<string> Validate(ScimOptions options) => new ScimOptionsValidator().Failures(options);

    internal static ScimClient CreateStandalone(ScimOptions options, TimeProvider timeProvider, ILoggerFactory? loggerFactory, TableServiceClient? tables = null)
    {
        var failures = Validate(options);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(ScimOptions.Section, typeof(ScimOptions), failures);
        }

        var services = new ServiceCollection();
        services.AddSingleton(loggerFactory ?? NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(timeProvider);
        services.AddSingleton(Options.Create(options));
        if (tables is not null)
        {
            services.AddSingleton(tables);
        }

        AddClient(services);
        var provider = services.BuildServiceProvider();
        var client = (ScimClient)provider.GetRequiredService<IScimClient>();
        client.Owner = provider;
        return client;
    }

    private static void AddClient(IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScimOptions>, ScimOptionsValidator>());
        services.TryAddSingleton<ScimTargetState>();

        // One limiter per target and credential: this container serves one configured target.
        services.TryAddSingleton(provider =>
        {
            var settings = provider.GetRequiredService<IOptions<ScimOptions>>().Value;
            var time = provider.GetRequiredService<TimeProvider>();
            ScimSharedBudget? shared = null;
            if (!string.IsNullOrEmpty(settings.SharedBudgetTable))
            {
                var tables = provider.GetService<TableServiceClient>()
                    ?? throw new InvalidOperationException("Setting Scim__SharedBudgetTable needs Table Storage, and none is configured (State__tableServiceUri or State__ConnectionString).");

                // Base URL and client id name the target and credential; the secret never enters the key.
                shared = new ScimSharedBudget(
                    tables.GetTableClient(settings.SharedBudgetTable),
                    $"{settings.BaseUrl}|{settings.ClientId}",
                    settings.RequestsPerMinute,
                    time,
                    provider.GetRequiredService<ILoggerFactory>().CreateLogger<ScimSharedBudget>());
            }

            return new ScimRateLimiter(settings.RequestsPerMinute, settings.RequestBurst, time, shared);
        });
        services.TryAddSingleton<ScimTokenSource>();
        services.TryAddTransient<ScimAuthHandler>();
        services.TryAddTransient<ScimTrafficHandler>();
        services.TryAddTransient<ScimCorrelationHandler>();

        services.AddHttpClient(ScimTokenSource.LoginClientName, (provider, http) =>
            http.Timeout = provider.GetRequiredService<IOptions<ScimOptions>>().Value.AttemptTimeout);

        var client = services.AddHttpClient<IScimClient, ScimClient>((provider, http) =>
            {
                var settings = provider.GetRequiredService<IOptions<ScimOptions>>().Value;
                http.BaseAddress = settings.BaseUri;

                // The pipeline owns every timeout (per attempt and per call); HttpClient's own would cut across them.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue(ScimMediaTypes.ScimJson));
                http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue(ScimMediaTypes.Json));
            });

        // Outermost first; the order and its reasons are written down on ScimResilience.
        client.AddResilienceHandler(ScimResilience.PipelineName, (builder, context) => ScimResilience.Configure(builder, context.ServiceProvider));
        client.AddHttpMessageHandler<ScimAuthHandler>();
        client.AddHttpMessageHandler<ScimTrafficHandler>();
        client.AddHttpMessageHandler<ScimCorrelationHandler>();
    }
}
