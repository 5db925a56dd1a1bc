using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions;

/// <summary>Telemetry through OpenTelemetry (host.json <c>telemetryMode</c> is <c>OpenTelemetry</c>): the engine's
/// meter, the HTTP clients' and Azure SDK clients' spans, and the logs, exported to Application Insights when a
/// connection string is set, ingesting with the managed identity (the resource accepts Entra tokens only).
/// The Application Insights SDK path is not used: WorkerService 3.x cannot be loaded by Worker.ApplicationInsights 2.x.</summary>
public static class ScimTelemetry
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AuthenticationStringSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    public const string ServiceName = "ScimFunctions";

    /// <summary>Azure SDK sources whose spans are exported: the Service Bus sender, Table Storage and sign-in.</summary>
    public static readonly string[] AzureSdkSources = ["Azure.Messaging.ServiceBus.*", "Azure.Data.Tables.*", "Azure.Identity.*"];

    public static IOpenTelemetryBuilder AddScimTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        // The Azure SDK publishes ActivitySource spans only behind this switch (it is still marked experimental).
        AppContext.SetSwitch("Azure.Experimental.EnableActivitySource", true);

        var telemetry = services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithMetrics(metrics => metrics
                .AddMeter(ProvisioningMetrics.MeterName)
                .AddHttpClientInstrumentation())
            .WithTracing(tracing => tracing
                .AddSource(AzureSdkSources)
                // Query strings stay out of spans: a SCIM lookup filters by userName. Paths carry ids only.
                .AddHttpClientInstrumentation(http => http.EnrichWithHttpRequestMessage = (activity, request) =>
                {
                    if (request.RequestUri is { } uri)
                    {
                        activity.SetTag("url.full", uri.GetLeftPart(UriPartial.Path));
                    }
                }))
            .WithLogging();

        var connectionString = configuration[ConnectionStringSetting];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            var credential = IngestionCredential(configuration[AuthenticationStringSetting]);
            telemetry.UseAzureMonitorExporter(exporter =>
            {
                exporter.ConnectionString = connectionString;
                exporter.Credential = credential;
            });
        }

        return telemetry;
    }

    /// <summary>The credential for Entra-authenticated ingestion, from <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c>
    /// (the format the Functions host reads: <c>ClientId=…;Authorization=AAD</c> for a user-assigned identity,
    /// <c>Authorization=AAD</c> for the system-assigned one). Null when the setting is empty (key-based ingestion).
    /// The exporter does not read this setting itself, so without this the worker's telemetry would be refused.</summary>
    public static TokenCredential? IngestionCredential(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        string? clientId = null;
        string? authorization = null;
        foreach (var part in authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? part : part[..equals].Trim();
            var value = equals < 0 ? "" : part[(equals + 1)..].Trim();
            if (key.Equals("ClientId", StringComparison.OrdinalIgnoreCase))
            {
                clientId = value;
            }
            else if (key.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            {
                authorization = value;
            }
            else
            {
                throw new InvalidOperationException($"Setting {AuthenticationStringSetting} has an unknown part '{key}': expected ClientId=<client id>;Authorization=AAD.");
            }
        }

        if (!string.Equals(authorization, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Setting {AuthenticationStringSetting} must say Authorization=AAD (Entra ingestion); it says '{authorization}'.");
        }

        if (clientId is null)
        {
            return new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
        }

        if (!Guid.TryParse(clientId, out _))
        {
            throw new InvalidOperationException($"Setting {AuthenticationStringSetting}: ClientId must be the managed identity's client id (a GUID).");
        }

        return new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
    }
}
