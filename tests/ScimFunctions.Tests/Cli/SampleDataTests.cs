using System.Text.Json;
using ScimFunctions.Cli.Samples;

namespace ScimFunctions.Tests.Cli;

public sealed class SampleDataTests
{
    private static readonly (byte[] Day1, byte[] Day2, byte[] EmulatorSeed) Generated = SampleCompany.Generate();

    [Fact]
    public void CommittedSamples_AreExactlyWhatTheGeneratorWrites()
    {
        Assert.True(Generated.Day1.SequenceEqual(File.ReadAllBytes(SampleFiles.Day1)), "samples/contoso-day1.json is stale: run 'scimfn generate-samples samples'.");
        Assert.True(Generated.Day2.SequenceEqual(File.ReadAllBytes(SampleFiles.Day2)), "samples/contoso-day2.json is stale: run 'scimfn generate-samples samples'.");
        Assert.True(Generated.EmulatorSeed.SequenceEqual(File.ReadAllBytes(SampleFiles.EmulatorSeed)), "samples/emulator-seed.json is stale: run 'scimfn generate-samples samples'.");
        Assert.True(SampleCompany.GenerateEntitlements().SequenceEqual(File.ReadAllBytes(Path.Combine(SampleFiles.Root, "samples", SampleCompany.EntitlementsFile))), "samples/entitlements.json is stale: run 'scimfn generate-samples samples'.");
    }

    [Fact]
    public void SampleEntitlements_AreValidRules_OnTheSnapshotsGroups()
    {
        var rules = ScimFunctions.Provisioning.Sync.Entitlements.EntitlementRules.Parse(File.ReadAllText(Path.Combine(SampleFiles.Root, "samples", SampleCompany.EntitlementsFile)));
        using var day1 = JsonDocument.Parse(File.ReadAllBytes(SampleFiles.Day1));
        var groups = day1.RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("id").GetString()!).ToHashSet(StringComparer.OrdinalIgnoreCase);

        Assert.Equal(13, rules.Rules.Count);
        Assert.All(rules.Rules, r => Assert.Contains(r.GroupId, groups));
        Assert.Equal("Home", rules.DefaultDivision);
    }

    [Theory]
    [InlineData("contoso-day1.json")]
    [InlineData("contoso-day2.json")]
    public void Snapshot_IsARealisticCompany_WithEveryReferenceResolved(string file)
    {
        var path = Path.Combine(SampleFiles.Root, "samples", file);
        Assert.True(new FileInfo(path).Length < 1024 * 1024);
        var snapshot = Snapshot.Load(path);

        Assert.InRange(snapshot.Users.Count, 250, 350);
        Assert.InRange(snapshot.Groups.Count, 18, 22);
        Assert.Equal(snapshot.Users.Count, snapshot.Users.Select(u => u.Upn.ToLowerInvariant()).Distinct().Count());
        Assert.All(snapshot.Users, u => Assert.True(u.ManagerId is null || snapshot.ById.ContainsKey(u.ManagerId), $"{u.Upn}'s manager is missing"));
        Assert.Single(snapshot.Users, u => u.ManagerId is null);
        Assert.All(snapshot.Groups.SelectMany(g => g.Members), m => Assert.Contains(m, snapshot.ById.Keys));
        Assert.InRange(snapshot.Users.Count(u => !u.Enabled), 3, 10);
        Assert.True(snapshot.Users.Select(u => u.Department).Distinct().Count() >= 8);
        Assert.All(snapshot.Users.SelectMany(u => u.Phones), p => Assert.Matches(@"^\+[0-9 ()-]+$", p));
    }

    [Fact]
    public void Day2_BringsJoinersMoversARenameLeaversAndARehire()
    {
        var day1 = Snapshot.Load(SampleFiles.Day1);
        var day2 = Snapshot.Load(SampleFiles.Day2);
        var both = day1.ById.Keys.Intersect(day2.ById.Keys).Select(id => (Before: day1.ById[id], After: day2.ById[id])).ToList();

        Assert.True(day2.ById.Keys.Except(day1.ById.Keys).Count() >= 5, "joiners");
        Assert.True(day1.ById.Keys.Except(day2.ById.Keys).Count() >= 2, "leavers removed");
        Assert.True(both.Count(p => p.Before.Enabled && !p.After.Enabled) >= 2, "leavers disabled");
        Assert.Contains(both, p => !p.Before.Enabled && p.After.Enabled);
        Assert.Contains(both, p => p.Before.Upn != p.After.Upn);
        Assert.Contains(both, p => p.Before.Department != p.After.Department);
        Assert.Contains(both, p => p.Before.Title != p.After.Title && p.Before.Department == p.After.Department);
        Assert.Contains(both, p => p.Before.ManagerId != p.After.ManagerId && p.Before.Department == p.After.Department);
        var moved = day1.Groups.Zip(day2.Groups).Sum(g => g.First.Members.Except(g.Second.Members).Count());
        Assert.True(moved >= 5, "group moves");
    }

    [Fact]
    public void EmulatorSeed_HoldsEveryGroupOfTheSampleDirectory()
    {
        using var seed = JsonDocument.Parse(File.ReadAllBytes(SampleFiles.EmulatorSeed));
        var names = seed.RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("displayName").GetString()).ToList();

        Assert.Equal(Snapshot.Load(SampleFiles.Day1).Groups.Select(g => g.Name), names);
        Assert.Equal(0, seed.RootElement.GetProperty("users").GetArrayLength());
    }

    private sealed record User(string Id, string Upn, bool Enabled, string? Department, string? Title, string? ManagerId, IReadOnlyList<string> Phones);

    private sealed record Group(string Name, IReadOnlyList<string> Members);

    private sealed record Snapshot(IReadOnlyList<User> Users, IReadOnlyList<Group> Groups)
    {
        public Dictionary<string, User> ById { get; } = Users.ToDictionary(u => u.Id);

        public static Snapshot Load(string path)
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            var users = root.GetProperty("users").EnumerateArray().Select(u => new User(
                u.GetProperty("id").GetString()!,
                u.GetProperty("userPrincipalName").GetString()!,
                u.GetProperty("accountEnabled").GetBoolean(),
                u.GetProperty("department").GetString(),
                u.GetProperty("jobTitle").GetString(),
                u.TryGetProperty("manager", out var manager) ? manager.GetProperty("id").GetString() : null,
                [
                    .. u.GetProperty("businessPhones").EnumerateArray().Select(p => p.GetString()!),
                    .. u.GetProperty("mobilePhone").ValueKind == JsonValueKind.String ? [u.GetProperty("mobilePhone").GetString()!] : Array.Empty<string>(),
                ])).ToList();
            var groups = root.GetProperty("groups").EnumerateArray().Select(g => new Group(
                g.GetProperty("displayName").GetString()!,
                g.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToList())).ToList();
            return new Snapshot(users, groups);
        }
    }
}
