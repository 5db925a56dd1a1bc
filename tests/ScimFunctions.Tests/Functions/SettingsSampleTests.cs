using System.Collections;
using System.Reflection;
using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Functions;

/// <summary>The README promises that local.settings.sample.json names every setting the app reads.</summary>
public sealed class SettingsSampleTests
{
    // Keyed collections have no fixed name to document (Sync__Groups__Map__<group>); the README explains them.
    private static readonly HashSet<string> Keyed = new(StringComparer.Ordinal) { "Sync__Groups__Map" };

    // Bound only so that a deployment still setting them is refused at start with the reason; not to be set.
    private static readonly HashSet<string> Retired = new(StringComparer.Ordinal) { "Graph__SubscriptionResources" };

    [Fact]
    public void EveryOptionsProperty_IsNamedInTheSample()
    {
        var expected = new List<string>();
        Collect(NotificationOptions.Section, typeof(NotificationOptions), expected);
        Collect(ScimOptions.Section, typeof(ScimOptions), expected);
        Collect(GraphOptions.Section, typeof(GraphOptions), expected);
        Collect(GraphOptions.Section, typeof(GraphSubscriptionOptions), expected);
        Collect(StateOptions.Section, typeof(StateOptions), expected);
        Collect(SyncOptions.Section, typeof(SyncOptions), expected);

        var sample = Sample();
        var missing = expected.Where(name => !Keyed.Contains(name) && !Retired.Contains(name) && !sample.ContainsKey(name)).ToList();
        var retiredInSample = Retired.Where(sample.ContainsKey).ToList();

        Assert.True(expected.Count > 60, $"Only {expected.Count} settings found: the reflection walk is broken.");
        Assert.True(missing.Count == 0, "local.settings.sample.json lacks: " + string.Join(", ", missing));
        Assert.True(retiredInSample.Count == 0, "local.settings.sample.json sets retired settings: " + string.Join(", ", retiredInSample));
    }

    [Fact]
    public void TriggerSettings_AreNamedInTheSample()
    {
        var sample = Sample();

        foreach (var name in (string[])["ProvisioningQueueName", "DeltaSweepSchedule", "ReconcileGroupsSchedule", "RenewSubscriptionsSchedule", "PurgeDisabledSchedule"])
        {
            Assert.True(sample.ContainsKey(name), name);
        }
    }

    private static void Collect(string prefix, Type type, List<string> names)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var name = $"{prefix}__{property.Name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType.IsClass && propertyType != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(propertyType))
            {
                Collect(name, propertyType, names);
            }
            else
            {
                names.Add(name);
            }
        }
    }

    private static JsonObject Sample()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "local.settings.sample.json")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        return JsonNode.Parse(File.ReadAllText(Path.Combine(directory.FullName, "local.settings.sample.json")))!["Values"]!.AsObject();
    }
}
