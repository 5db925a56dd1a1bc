using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions;

/// <summary>Everything the Functions host registers, in one place.</summary>
public static class ScimFunctionsRegistration
{
    /// <summary>App setting with the queue name; the trigger reads it as <c>%ProvisioningQueueName%</c>.</summary>
    public const string QueueNameSetting = "ProvisioningQueueName";

    /// <summary>Connection prefix shared by the trigger and the sender (<c>ServiceBusConnection__fullyQualifiedNamespace</c>).</summary>
    public const string ServiceBusConnection = "ServiceBusConnection";

    public static FunctionsApplicationBuilder AddScimFunctions(this FunctionsApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScimTelemetry(builder.Configuration);

        services.AddSingleton(TimeProvider.System);
        services.AddOptions<NotificationOptions>()
            .BindConfiguration(NotificationOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Identity-based in Azure (fullyQualifiedNamespace + credential), a connection string locally.
        services.AddAzureClients(clients => clients.AddServiceBusClient(builder.Configuration.GetSection(ServiceBusConnection)));
        services.AddOptions<QueueOptions>()
            .Configure(options =>
            {
                options.QueueName = builder.Configuration[QueueNameSetting];
                options.ConnectionString = builder.Configuration[ServiceBusConnection];
                options.FullyQualifiedNamespace = builder.Configuration[ServiceBusConnection + ":fullyQualifiedNamespace"];
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(provider => provider.GetRequiredService<ServiceBusClient>().CreateSender(provider.GetRequiredService<IOptions<QueueOptions>>().Value.QueueName));
        services.AddSingleton<WorkQueue>();

        // The SCIM target (Scim__*), the directory and its subscriptions (Graph__*), then the engine (State__*, Sync__*).
        services.AddScimTarget(builder.Configuration);
        services.AddGraphDirectory(builder.Configuration);
        services.AddGraphSubscriptions(builder.Configuration);
        services.AddProvisioningEngine(builder.Configuration);
        return builder;
    }
}
