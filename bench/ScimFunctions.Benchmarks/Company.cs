using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ScimFunctions.Benchmarks;

/// <summary>A generated directory in Graph's JSON shape (the snapshot format), with deterministic changes.</summary>
internal sealed class Company
{
    private static readonly string[] Departments = ["Sales", "Support", "Engineering", "Finance", "Marketing", "Operations", "Legal", "People"];
    private static readonly string[] Titles = ["Agent", "Senior Agent", "Team Lead", "Supervisor", "Analyst", "Engineer", "Manager"];

    private readonly List<JsonObject> users = [];
    private readonly List<(string Id, string Name, List<string> Members)> groups = [];
    private int round;

    public Company(int userCount, int groups)
    {
        for (var i = 0; i < userCount; i++)
        {
            var user = new JsonObject
            {
                ["id"] = Id(1, i),
                ["userPrincipalName"] = $"user{i:D5}@contoso.example",
                ["displayName"] = $"User {i:D5}",
                ["accountEnabled"] = true,
                ["mail"] = $"user{i:D5}@contoso.example",
                ["jobTitle"] = Titles[i % Titles.Length],
                ["department"] = Departments[i % Departments.Length],
                ["employeeId"] = (100000 + i).ToString(CultureInfo.InvariantCulture),
                ["mobilePhone"] = $"+1 425 555 {i % 10000:D4}",
                ["businessPhones"] = new JsonArray($"+1 206 555 {(i * 7) % 10000:D4}"),
            };
            if (i > 0)
            {
                user["manager"] = new JsonObject { ["id"] = Id(1, (i - 1) / 8) };
            }

            users.Add(user);
        }

        for (var g = 0; g < groups; g++)
        {
            var members = Enumerable.Range(0, userCount).Where(i => i % groups == g || i % 97 == g).Select(i => Id(1, i)).ToList();
            this.groups.Add((Id(2, g), GroupName(g), members));
        }
    }

    public static string GroupName(int index) => $"Queue {index:D2}";

    public JsonObject EmulatorSeed() => new()
    {
        ["groups"] = new JsonArray(groups.Select(g => (JsonNode)new JsonObject { ["displayName"] = g.Name }).ToArray()),
        ["users"] = new JsonArray(),
    };

    public string SnapshotJson()
    {
        var document = new JsonObject
        {
            ["users"] = new JsonArray(users.Select(u => u.DeepClone()).ToArray()),
            ["groups"] = new JsonArray(groups.Select(g => (JsonNode)new JsonObject
            {
                ["id"] = g.Id,
                ["displayName"] = g.Name,
                ["members"] = new JsonArray(g.Members.Select(m => (JsonNode)new JsonObject { ["id"] = m }).ToArray()),
            }).ToArray()),
        };
        return document.ToJsonString();
    }

    /// <summary>Changes the job title of a fraction of users.</summary>
    public void Move(double fraction)
    {
        round++;
        foreach (var user in Pick(fraction))
        {
            user["jobTitle"] = $"{user["jobTitle"]} (round {round})";
        }
    }

    public void Disable(double fraction)
    {
        round++;
        foreach (var user in Pick(fraction))
        {
            user["accountEnabled"] = false;
        }
    }

    /// <summary>Moves a fraction of users from one group to the next.</summary>
    public void MoveGroups(double fraction)
    {
        round++;
        foreach (var user in Pick(fraction))
        {
            var id = (string)user["id"]!;
            var from = groups.FindIndex(g => g.Members.Contains(id));
            if (from < 0)
            {
                continue;
            }

            groups[from].Members.Remove(id);
            groups[(from + 1) % groups.Count].Members.Add(id);
        }
    }

    private IEnumerable<JsonObject> Pick(double fraction)
    {
        var step = Math.Max(1, (int)Math.Round(1 / fraction));
        return users.Where((_, i) => (i + round) % step == 0 && (bool)users[i]["accountEnabled"]!);
    }

    private static string Id(int kind, int index) => $"{kind:D8}-0000-4000-8000-{index:D12}";
}

/// <summary>Graph change-notification bodies in the documented wire shape.</summary>
internal static class Payloads
{
    public const string ClientState = "bench-client-state-0123456789";

    public static byte[] NotificationCollection(int items)
    {
        var builder = new StringBuilder("{\"value\":[");
        for (var i = 0; i < items; i++)
        {
            var id = $"00000001-0000-4000-8000-{i:D12}";
            builder.Append(i == 0 ? "" : ",")
                .Append("{\"subscriptionId\":\"7f105c7d-2dc5-4530-97cd-4e7ae6534c07\",\"clientState\":\"").Append(ClientState)
                .Append("\",\"changeType\":\"updated\",\"resource\":\"Users/").Append(id)
                .Append("\",\"tenantId\":\"84bd8158-6d4d-4958-8b9f-9d6445542f95\",\"resourceData\":{\"@odata.type\":\"#Microsoft.Graph.User\",\"id\":\"").Append(id)
                .Append("\",\"eventTime\":\"2026-11-27T10:00:00Z\",\"sequenceNumber\":").Append(i).Append("}}");
        }

        return Encoding.UTF8.GetBytes(builder.Append("]}").ToString());
    }
}
