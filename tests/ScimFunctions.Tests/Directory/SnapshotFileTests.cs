using Microsoft.Extensions.Logging.Abstractions;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Tests.Directory;

/// <summary>Reading and checking snapshot files: a bad file is refused with a message naming the file
/// and the problem, and nothing is read from it.</summary>
public sealed class SnapshotFileTests : IDisposable
{
    private readonly string folder = System.IO.Directory.CreateTempSubdirectory("scimfn-snapshot-").FullName;

    public void Dispose() => System.IO.Directory.Delete(folder, recursive: true);

    internal const string ValidSnapshot = """
        {
          "users": [
            { "id": "u-boss", "userPrincipalName": "boss@contoso.com", "displayName": "Bea Boss", "accountEnabled": true,
              "mail": "boss@contoso.com", "jobTitle": "Director", "department": "Sales", "employeeId": "E1",
              "mobilePhone": null, "businessPhones": [], "givenName": "Bea", "surname": "Boss" },
            { "id": "u-ann", "userPrincipalName": "ann@contoso.com", "displayName": "Ann Smith", "accountEnabled": true,
              "mail": "ann@contoso.com", "jobTitle": "Agent", "department": "Sales", "employeeId": "E2",
              "mobilePhone": "+1 555 0100", "businessPhones": ["+1 555 0101"], "manager": { "id": "u-boss" },
              "employeeOrgData": { "division": "EMEA" }, "@odata.type": "#microsoft.graph.user" },
            { "id": "u-bob", "userPrincipalName": "bob@contoso.com", "displayName": "Bob Jones", "accountEnabled": false,
              "manager": { "@odata.type": "#microsoft.graph.user", "id": "u-boss" } }
          ],
          "groups": [
            { "id": "g-sales", "displayName": "Sales", "members": [ { "id": "u-boss" }, { "@odata.type": "#microsoft.graph.user", "id": "u-ann" }, { "id": "g-team" }, { "@odata.type": "#microsoft.graph.device", "id": "d-1" } ] },
            { "id": "g-team", "displayName": "Team", "members": [ { "id": "u-bob" } ] },
            { "id": "g-empty", "displayName": "Empty" }
          ]
        }
        """;

    [Fact]
    public async Task Read_ValidSnapshot_MapsUsersLikeGraph()
    {
        var path = Write("ok.json", ValidSnapshot);

        var snapshot = await SnapshotFile.ReadAsync(path);

        Assert.Equal(["u-boss", "u-ann", "u-bob"], snapshot.Users.Keys);
        var ann = snapshot.Users["u-ann"];
        Assert.Equal("ann@contoso.com", ann.UserPrincipalName);
        Assert.Equal("Agent", ann.JobTitle);
        Assert.Equal("+1 555 0100", ann.MobilePhone);
        Assert.Equal(["+1 555 0101"], ann.BusinessPhones);
        Assert.Equal("u-boss", ann.ManagerId);
        Assert.Equal("EMEA", ann.Properties["employeeOrgData.division"]);
        Assert.False(ann.Properties.ContainsKey("@odata.type"));
        Assert.Null(snapshot.Users["u-boss"].ManagerId);
        Assert.Equal("Bea", snapshot.Users["u-boss"].Properties["givenName"]);
        Assert.False(snapshot.Users["u-bob"].AccountEnabled);
        Assert.Equal(["g-sales", "g-team", "g-empty"], snapshot.Groups.Keys);
        Assert.Empty(snapshot.Groups["g-empty"].Members);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\t ")]
    [InlineData("\uFEFF")]
    public async Task Read_EmptyFile_IsRefusedNeverEveryoneLeft(string content)
    {
        var path = Write("empty.json", content);

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task Read_NoUsers_IsRefusedNeverEveryoneLeft()
    {
        var path = Write("nousers.json", """{ "users": [], "groups": [] }""");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(path));

        Assert.Contains("$.users is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_MissingFile_NamesTheFile()
    {
        var path = Path.Combine(folder, "absent.json");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_Directory_IsReportedUnreadable()
    {
        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(folder));

        Assert.Contains("cannot be read", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_BadJson_NamesLineAndPosition()
    {
        var path = Write("bad.json", "{\n  \"users\": [\n    { \"id\": \"u1\", }\n  ]\n}");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("not valid JSON at line 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_RootNotAnObject_IsRefused()
    {
        var path = Write("array.json", "[ { \"id\": \"u1\" } ]");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(path));

        Assert.Contains("$ must be an object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_MissingIdsAndWrongTypes_ListsEveryProblemWithItsPath()
    {
        var path = Write("types.json", """
            {
              "users": [
                { "userPrincipalName": "a@contoso.com", "accountEnabled": true },
                { "id": "u2", "accountEnabled": "yes" },
                { "id": 3, "accountEnabled": true },
                { "id": "u4", "accountEnabled": true, "businessPhones": "555", "manager": "u2" },
                { "id": "u5" },
                "u6"
              ],
              "groups": [ { "id": "g1" }, { "id": "g2", "displayName": "G2", "members": [ { "id": 7 }, "u2" ] } ]
            }
            """);

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(path));

        Assert.Contains("$.users[0].id is missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.users[1].accountEnabled must be true or false, not a string", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.users[2].id must be a string, not a number", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.users[3].businessPhones must be an array of strings", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.users[3].manager must be an object", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.users[4].accountEnabled is missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.users[5] must be an object, not a string", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.groups[0].displayName is missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.groups[1].members[0].id must be a string", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.groups[1].members[1] must be an object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_DuplicateIds_NamesBothPlaces()
    {
        var path = Write("dupes.json", """
            {
              "users": [
                { "id": "u1", "userPrincipalName": "a@contoso.com", "accountEnabled": true },
                { "id": "u2", "userPrincipalName": "A@contoso.com", "accountEnabled": true },
                { "id": "u1", "userPrincipalName": "c@contoso.com", "accountEnabled": true }
              ],
              "groups": [ { "id": "g1", "displayName": "G" }, { "id": "g1", "displayName": "G again" }, { "id": "u1", "displayName": "Clash" } ]
            }
            """);

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(path));

        Assert.Contains("$.users[2].id 'u1' is a duplicate of $.users[0].id", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.users[1].userPrincipalName is a duplicate of $.users[0].userPrincipalName", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("A@contoso.com", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.groups[1].id 'g1' is a duplicate of $.groups[0].id", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.groups[2].id 'u1' is also the id of a user", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_MissingGroups_IsRefusedRatherThanReadAsAllGroupsDeleted()
    {
        var path = Write("nogroups.json", """{ "users": [ { "id": "u1", "accountEnabled": true } ] }""");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(path));

        Assert.Contains("$.groups is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_ManyProblems_ReportsTheFirstTwentyAndACount()
    {
        var users = string.Join(",", Enumerable.Range(0, 30).Select(i => $$"""{ "id": "u{{i}}" }"""));
        var path = Write("many.json", $$"""{ "users": [ {{users}} ], "groups": [] }""");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => SnapshotFile.ReadAsync(path));

        Assert.Contains("30 problems", error.Message, StringComparison.Ordinal);
        Assert.Contains("(and 10 more)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Source_InvalidSnapshot_ThrowsOnEveryReadAndSavesNoState()
    {
        var path = Write("broken.json", "{ \"users\": [ { \"id\": \"u1\" } ], \"groups\": [] }");
        var store = new InMemorySnapshotStateStore();
        var source = new SnapshotDirectorySource(path, store, NullLogger<SnapshotDirectorySource>.Instance);

        await Assert.ThrowsAsync<DirectoryUnavailableException>(() => source.GetUserChangesAsync(null));
        await Assert.ThrowsAsync<DirectoryUnavailableException>(() => source.GetGroupChangesAsync(null));
        await Assert.ThrowsAsync<DirectoryUnavailableException>(() => source.GetUserAsync("u1"));

        Assert.Equal(0, store.Count);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, content);
        return path;
    }
}
