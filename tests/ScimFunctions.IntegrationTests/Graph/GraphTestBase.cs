using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Graph;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.IntegrationTests.Graph;

/// <summary>Starts a fresh Graph double per test and builds real SDK clients against it.</summary>
public abstract class GraphTestBase : IAsyncLifetime
{
    private readonly List<GraphServiceClient> clients = [];

    protected GraphDouble Graph { get; private set; } = null!;

    public async Task InitializeAsync() => Graph = await GraphDouble.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var client in clients)
        {
            client.Dispose();
        }

        await Graph.DisposeAsync();
    }

    protected GraphOptions Options(Action<GraphOptions>? configure = null)
    {
        var options = new GraphOptions
        {
            BaseUrl = Graph.BaseUrl,
            Credential = GraphCredentialKinds.Token,
            StaticToken = GraphDouble.DefaultToken,
        };
        configure?.Invoke(options);
        return options;
    }

    protected GraphServiceClient Client(GraphOptions options)
    {
        var client = GraphClients.Create(options);
        clients.Add(client);
        return client;
    }

    protected GraphDirectorySource Source(Action<GraphOptions>? configure = null, ILogger<GraphDirectorySource>? logger = null)
    {
        var options = Options(configure);
        return new GraphDirectorySource(Client(options), options, logger ?? NullLogger<GraphDirectorySource>.Instance);
    }

    /// <summary>A small company: a manager with two reports, one more user, and a guest with a '#' in the UPN.</summary>
    protected void SeedUsers()
    {
        Graph.AddUser("u-boss", "boss@contoso.com", "Bea Boss", properties: p =>
        {
            p["jobTitle"] = "Director";
            p["department"] = "Sales";
            p["givenName"] = "Bea";
            p["surname"] = "Boss";
        });
        Graph.AddUser("u-ann", "ann@contoso.com", "Ann Smith", properties: p =>
        {
            p["jobTitle"] = "Agent";
            p["department"] = "Sales";
            p["employeeId"] = "E100";
            p["mobilePhone"] = "+1 555 0100";
            p["businessPhones"] = new System.Text.Json.Nodes.JsonArray("+1 555 0101");
            p["givenName"] = "Ann";
            p["surname"] = "Smith";
        });
        Graph.AddUser("u-bob", "bob@contoso.com", "Bob Jones", accountEnabled: false);
        Graph.AddUser("u-cid", "cid@contoso.com", "Cid Moore");
        Graph.AddUser("u-guest", "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", "Gus Guest");
        Graph.SetManager("u-ann", "u-boss");
        Graph.SetManager("u-bob", "u-boss");
    }
}
