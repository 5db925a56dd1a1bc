using GenesysScimEmulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace ScimFunctions.IntegrationTests.Scim;

/// <summary>Starts the Genesys emulator in-process on 127.0.0.1, port 0, through its public registration
/// (AddGenesysScimEmulator / UseGenesysScimEmulator). Mirrors EmulatorHost.StartAsync, which at the merged
/// emulator commit throws ("A configuration source is not registered") because it clears the configuration
/// sources before UseUrls writes to them; switch back to EmulatorHost once that is fixed.</summary>
internal static class EmulatorStarter
{
    public static async Task<RunningEmulator> StartAsync(Action<EmulatorOptions>? configure = null, TimeProvider? timeProvider = null)
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
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
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
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningEmulator(app, new Uri(address.TrimEnd('/') + "/"));
    }
}
