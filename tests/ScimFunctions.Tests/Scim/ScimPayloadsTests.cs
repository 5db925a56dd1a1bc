using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimPayloadsTests
{
    private static readonly HashSet<string> RfcSchemas = [ScimSchemas.User, ScimSchemas.EnterpriseUser];

    [Fact]
    public void PatchBody_HasSchemasCapitalOperationsAndLowerCaseOps()
    {
        var body = ScimPayloads.PatchBody([
            new ScimPatchOperation("Replace", "active", false),
            ScimPatchOperation.Remove("title"),
            ScimPatchOperation.Add(null, new JsonObject { ["displayName"] = "Ada" }),
        ]);

        Assert.Equal(
            """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false},{"op":"remove","path":"title"},{"op":"add","value":{"displayName":"Ada"}}]}""",
            body.ToJsonString());
    }

    [Fact]
    public void MemberChunks_SplitsAtChunkSizeRemovalsFirst()
    {
        var chunks = ScimPayloads.MemberChunks(add: ["a1", "a2", "a3", "a4"], remove: ["r1", "r2"], chunkSize: 4, removeByFilter: false);

        Assert.Equal(2, chunks.Count);
        Assert.Equal(
            """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members","value":[{"value":"r1"},{"value":"r2"}]},{"op":"add","path":"members","value":[{"value":"a1"},{"value":"a2"}]}]}""",
            ScimPayloads.PatchBody(chunks[0]).ToJsonString());
        Assert.Equal(
            """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"a3"},{"value":"a4"}]}]}""",
            ScimPayloads.PatchBody(chunks[1]).ToJsonString());
    }

    [Theory]
    [InlineData(0, 50, 0)]
    [InlineData(50, 50, 1)]
    [InlineData(51, 50, 2)]
    [InlineData(120, 50, 3)]
    [InlineData(7, 1, 7)]
    public void MemberChunks_NeverExceedsTheChunkSize(int members, int chunkSize, int expectedRequests)
    {
        var ids = Enumerable.Range(0, members).Select(i => $"u{i}").ToList();

        var chunks = ScimPayloads.MemberChunks(ids, [], chunkSize, removeByFilter: false);

        Assert.Equal(expectedRequests, chunks.Count);
        Assert.All(chunks, c => Assert.InRange(c.Sum(o => ((JsonArray)o.Value!).Count), 1, chunkSize));
        Assert.Equal(ids, chunks.SelectMany(c => c).SelectMany(o => (JsonArray)o.Value!).Select(v => (string)v!["value"]!));
    }

    [Fact]
    public void MemberChunks_WithFilterStyle_RemovesEachMemberByValuePath()
    {
        var chunks = ScimPayloads.MemberChunks(add: [], remove: ["a\"b", "c"], chunkSize: 50, removeByFilter: true);

        var operations = Assert.Single(chunks);
        Assert.Equal(["members[value eq \"a\\\"b\"]", "members[value eq \"c\"]"], operations.Select(o => o.Path));
        Assert.All(operations, o => Assert.Null(o.Value));
    }

    [Fact]
    public void PrepareUser_DropsUnsupportedExtensionsAndRecomputesSchemas()
    {
        var user = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.User, ScimSchemas.GenesysUser),
            ["userName"] = "ada@example.org",
            [ScimSchemas.EnterpriseUser] = new JsonObject { ["department"] = "R&D" },
            [ScimSchemas.GenesysUser] = new JsonObject { ["routingSkills"] = new JsonArray() },
            ["groups"] = new JsonArray(),
        };

        var prepared = ScimPayloads.PrepareUser(user, RfcSchemas, forReplace: false);

        Assert.Equal(["schemas", "userName", ScimSchemas.EnterpriseUser], prepared.Select(p => p.Key));
        Assert.Equal([ScimSchemas.User, ScimSchemas.EnterpriseUser], prepared["schemas"]!.AsArray().Select(s => (string)s!));
        Assert.True(user.ContainsKey(ScimSchemas.GenesysUser), "the caller's object is not modified");
    }

    [Fact]
    public void PrepareUser_ForReplace_StripsReadOnlyAttributes()
    {
        var fromGet = new JsonObject
        {
            ["id"] = "1",
            ["userName"] = "ada@example.org",
            ["password"] = "x",
            ["groups"] = new JsonArray(new JsonObject { ["value"] = "g" }),
            ["meta"] = new JsonObject { ["version"] = "\"3\"" },
        };

        var prepared = ScimPayloads.PrepareUser(fromGet, RfcSchemas, forReplace: true);

        Assert.Equal(["schemas", "userName"], prepared.Select(p => p.Key));
    }

    [Fact]
    public void FilterOperations_DropsUnsupportedExtensionsAndReadOnlyGroups()
    {
        IReadOnlyList<ScimPatchOperation> operations =
        [
            ScimPatchOperation.Replace(ScimSchemas.GenesysUser + ":routingSkills", new JsonArray()),
            ScimPatchOperation.Replace(ScimSchemas.EnterpriseUser + ":department", "Ops"),
            ScimPatchOperation.Replace(null, new JsonObject { [ScimSchemas.GenesysUser] = new JsonObject(), ["title"] = "Dr" }),
            ScimPatchOperation.Replace(null, new JsonObject { [ScimSchemas.GenesysUser] = new JsonObject() }),
            ScimPatchOperation.Remove("title"),
            ScimPatchOperation.Add("groups", new JsonArray(new JsonObject { ["value"] = "g1" })),
            ScimPatchOperation.Replace(null, new JsonObject { ["groups"] = new JsonArray() }),
        ];

        var kept = ScimPayloads.FilterOperations(operations, RfcSchemas);

        Assert.Equal(3, kept.Count);
        Assert.Equal(ScimSchemas.EnterpriseUser + ":department", kept[0].Path);
        Assert.Equal("""{"title":"Dr"}""", kept[1].Value!.ToJsonString());
        Assert.Equal("title", kept[2].Path);
    }
}
