using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.ConcurrencyTests.Seams;
using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Sync.Converging;

/// <summary>The engine's convergers built through <see cref="ProvisioningRegistration.AddProvisioningEngine"/> over
/// in-memory seams: Table Storage (the concurrency tests' <see cref="InMemoryTableService"/>, the SDK's own
/// client types), a SCIM target and a directory. Every call runs in memory: milliseconds per test.</summary>
internal sealed class ConvergerHarness : IDisposable
{
    public const string Ada = "11111111-1111-1111-1111-111111111111";
    public const string Bob = "22222222-2222-2222-2222-222222222222";
    public const string Cy = "33333333-3333-3333-3333-333333333333";
    public const string Sales = "99999999-9999-9999-9999-999999999999";

    private readonly ServiceProvider _provider;

    public ConvergerHarness(Dictionary<string, string?>? settings = null, bool canCreateGroups = false)
    {
        Target = new InMemoryScimTarget(canCreateGroups);
        var values = new Dictionary<string, string?>
        {
            ["State:ConnectionString"] = "UseDevelopmentStorage=true",
            // Paths the in-memory target applies: plain, schema-qualified and the manager.
            ["Sync:AttributeMapping"] = """
                [{"target":"userName","source":"userPrincipalName"},{"target":"displayName","source":"displayName"},
                 {"target":"active","source":"accountEnabled"},{"target":"title","source":"jobTitle"},
                 {"target":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","source":"department"},
                 {"target":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","source":"manager"},
                 {"target":"externalId","source":"id"}]
                """,
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton<TableServiceClient>(Tables);
        services.AddSingleton<IScimClient>(Target);
        services.AddSingleton<IDirectorySource>(Directory);
        services.AddProvisioningEngine(configuration);
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    public InMemoryTableService Tables { get; } = new();

    public InMemoryScimTarget Target { get; }

    public InMemoryDirectory Directory { get; } = new();

    public StateStore Store => _provider.GetRequiredService<StateStore>();

    public UserConverger Users => _provider.GetRequiredService<UserConverger>();

    public GroupConverger Groups => _provider.GetRequiredService<GroupConverger>();

    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    public static DirectoryUser Person(string id, string userName, string? title = "Engineer", bool enabled = true, string? managerId = null, string department = "Research") =>
        new(id, userName, userName.Split('@')[0], enabled, null, title, department, null, null, [], managerId, new Dictionary<string, string>());

    /// <summary>A user converged once from the directory (a notification): the usual starting point.</summary>
    public async Task<UserOutcome> ConvergeAsync(string id, RunContext? run = null) =>
        await Users.ConvergeAsync(new UserRequest(id), run ?? new RunContext(dryRun: false));

    public async Task<UserMapping> RowAsync(string id) => await Store.GetUserAsync(id) ?? throw new InvalidOperationException($"No row for {id}.");

    public void Dispose() => _provider.Dispose();
}
