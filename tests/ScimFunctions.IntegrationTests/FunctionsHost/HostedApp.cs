using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using FunctionsHostDouble;
using FunctionsHostDouble.Protocol;
using GenesysScimEmulator;
using ScimFunctions.IntegrationTests.Engine.Support;
using Microsoft.Extensions.Logging.Abstractions;
using ScimFunctions.IntegrationTests.Graph;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;
using ServiceBusTestDouble;

namespace ScimFunctions.IntegrationTests.FunctionsHost;

/// <summary>The built Functions app as one worker process under the host double, wired to real components:
/// Azurite tables, the Genesys emulator, the Graph test double and the AMQP Service Bus double (which the real
/// Service Bus SDK in the worker sends to) on loopback ports. It is initialised, asked for
/// its functions (worker indexing) and has every function loaded, exactly as the Functions host does at start.</summary>
public sealed class HostedApp : IAsyncLifetime
{
    public const string ClientState = "hosted-app-client-state-0123456789";
    private readonly AzuriteFixture azurite = new();

    public const string QueueName = "provisioning";

    public RunningEmulator Emulator { get; private set; } = null!;
    public ServiceBusDouble Bus { get; private set; } = null!;
    public GraphDouble Graph { get; private set; } = null!;
    public FunctionsHostDouble.FunctionsHost Host { get; private set; } = null!;
    public WorkerProcess Worker { get; private set; } = null!;
    public WorkerConnection Connection { get; private set; } = null!;
    public string AppDirectory { get; } = AppUnderTest.Directory();
    public string TablePrefix { get; } = "H" + Guid.NewGuid().ToString("N")[..12];
    public string AzuriteConnectionString => azurite.ConnectionString;
    public WorkerInitResponse Init { get; private set; } = null!;
    public FunctionMetadataResponse Metadata { get; private set; } = null!;
    public IReadOnlyDictionary<string, FunctionLoadResponse> Loaded { get; private set; } = null!;

    /// <summary>The worker's own HTTP server (ASP.NET Core integration), reported as the <c>HttpUri</c> capability.</summary>
    public Uri HttpUri { get; private set; } = null!;

    /// <summary>Process start → StartStream, → WorkerInitResponse, → every FunctionLoadResponse.</summary>
    public (TimeSpan Connected, TimeSpan Initialised, TimeSpan Loaded) StartUp { get; private set; }

    public async Task InitializeAsync()
    {
        await azurite.InitializeAsync();
        Emulator = await EmulatorHost.StartAsync(o => o.RateLimitPerMinute = 100_000);
        Graph = await GraphDouble.StartAsync();
        Bus = await ServiceBusDouble.StartAsync(QueueName);
        Host = await FunctionsHostDouble.FunctionsHost.StartAsync();

        Worker = WorkerProcess.Start(AppDirectory, Host.Endpoint, Settings(), "hosted-app");
        try
        {
            Connection = await Host.AcceptWorkerAsync("hosted-app", TimeSpan.FromSeconds(60));
            var connected = Worker.Elapsed;
            Init = await Connection.InitAsync(AppDirectory);
            var initialised = Worker.Elapsed;
            Metadata = await Connection.GetFunctionMetadataAsync(AppDirectory);
            var loaded = new Dictionary<string, FunctionLoadResponse>(StringComparer.Ordinal);
            foreach (var function in Metadata.FunctionMetadataResults)
            {
                loaded[function.Name] = await Connection.LoadAsync(function, AppDirectory);
            }

            Loaded = loaded;
            StartUp = (connected, initialised, Worker.Elapsed);
            HttpUri = new Uri(Init.Capabilities["HttpUri"]);
        }
        catch (Exception ex) when (ex is TimeoutException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidOperationException("The worker did not start under the host double. Its output:\n" + Worker.Output, ex);
        }
    }

    /// <summary>The sample settings with the endpoints of this machine's components.</summary>
    public Dictionary<string, string?> Settings()
    {
        var settings = AppUnderTest.LocalSettings(Emulator, Graph, azurite.ConnectionString, TablePrefix);
        settings["Notifications__ClientState"] = ClientState;
        settings["ServiceBusConnection"] = Bus.ConnectionString;
        settings["ProvisioningQueueName"] = QueueName;
        settings["Graph__NotificationUrl"] = "https://scimfn.example/api/notifications?code=hosted";
        return settings;
    }

    /// <summary>An engine in the test process over the same tables, emulator and Graph double, to set up state the
    /// worker then acts on (its own clock, so a test can stand in the past).</summary>
    public TestEngine Engine(TimeProvider time)
    {
        var scim = ScimClient.Create(new ScimOptions { Profile = "genesys", BaseUrl = Emulator.ScimBaseUrl, ClientId = Emulator.ClientId, ClientSecret = Emulator.ClientSecret, RequestsPerMinute = 60_000, RequestBurst = 1_000 });
        var graphOptions = new GraphOptions { BaseUrl = Graph.BaseUrl, Credential = GraphCredentialKinds.Token, StaticToken = GraphDouble.DefaultToken, MaxRetries = 1, RetryTimeLimitSeconds = 5 };
        var directory = new GraphDirectorySource(GraphClients.Create(graphOptions), graphOptions, NullLogger<GraphDirectorySource>.Instance);
        return TestEngine.Build(scim, directory, new TableServiceClient(AzuriteConnectionString), time: time, tablePrefix: TablePrefix);
    }

    /// <summary>Reads a resource back through the emulator's own SCIM API, as an admin's tool would.</summary>
    public async Task<(HttpStatusCode Status, JsonObject? Body)> ReadTargetAsync(string collection, string id)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Emulator.ScimBaseUrl}/{collection}/{id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Emulator.IssueToken());
        using var response = await client.SendAsync(request);
        return (response.StatusCode, response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject() : null);
    }

    /// <summary>An invocation's outcome with the worker's recent logs, for assertion messages.</summary>
    public string Describe(InvocationResponse response) =>
        $"{response}\nworker logs:\n{string.Join('\n', Connection.Logs.TakeLast(15).Select(l => $"{l.Level} {l.Category}: {l.Message} {l.Exception?.Message}"))}\nprocess output:\n{Worker.Output[Math.Max(0, Worker.Output.Length - 3000)..]}";

    public RpcFunctionMetadata Function(string name) =>
        Metadata.FunctionMetadataResults.Single(f => f.Name == name);

    /// <summary>Invokes a timer function as the host does when its schedule fires: the trigger binding gets the
    /// host's TimerInfo JSON.</summary>
    public Task<InvocationResponse> InvokeTimerAsync(string functionName, bool isPastDue = false)
    {
        var function = Function(functionName);
        var now = DateTimeOffset.UtcNow;
        var timer = $$"""{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"{{now.AddMinutes(-5):O}}","Next":"{{now.AddMinutes(5):O}}","LastUpdated":"{{now:O}}"},"IsPastDue":{{(isPastDue ? "true" : "false")}}}""";
        var request = new InvocationRequest { InvocationId = Guid.NewGuid().ToString(), FunctionId = function.FunctionId };
        request.InputData.Add(new ParameterBinding { Name = "timer", Data = new TypedData { Json = timer } });
        return Connection.InvokeAsync(request, TimeSpan.FromSeconds(120));
    }

    /// <summary>Drives the webhook as the host does with ASP.NET Core integration: an InvocationRequest for the HTTP
    /// function and, at the same time, the HTTP request itself forwarded to the worker's HTTP URI with the
    /// invocation id header. Returns the worker's HTTP response and its InvocationResponse.</summary>
    public async Task<(HttpResponseMessage Http, InvocationResponse Invocation)> InvokeHttpAsync(HttpMethod method, string pathAndQuery, HttpContent? content = null)
    {
        var function = Function("GraphNotifications");
        var invocationId = Guid.NewGuid().ToString();
        var request = new InvocationRequest { InvocationId = invocationId, FunctionId = function.FunctionId };
        request.InputData.Add(new ParameterBinding { Name = "request", Data = new TypedData { Http = new RpcHttp { Method = method.Method, Url = new Uri(HttpUri, pathAndQuery).ToString() } } });
        var invocation = Connection.InvokeAsync(request, TimeSpan.FromSeconds(60));

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var forwarded = new HttpRequestMessage(method, new Uri(HttpUri, pathAndQuery)) { Content = content };
        forwarded.Headers.Add("x-ms-invocation-id", invocationId);
        var http = await client.SendAsync(forwarded);
        return (http, await invocation);
    }

    public async Task DisposeAsync()
    {
        Connection?.Dispose();
        if (Worker is not null)
        {
            await Worker.DisposeAsync();
        }

        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (Graph is not null)
        {
            await Graph.DisposeAsync();
        }

        if (Bus is not null)
        {
            await Bus.DisposeAsync();
        }

        if (Emulator is not null)
        {
            await Emulator.DisposeAsync();
        }

        await azurite.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class HostedAppCollection : ICollectionFixture<HostedApp>
{
    public const string Name = "Functions app under the host double";
}
