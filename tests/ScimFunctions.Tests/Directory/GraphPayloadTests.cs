using System.Text.Json;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Serialization.Json;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Tests.Directory;

/// <summary><c>members@delta</c>, <c>manager@delta</c> and <c>@removed</c> are untyped in the SDK: read from raw
/// Graph JSON both as the SDK leaves them (Kiota untyped nodes) and as System.Text.Json leaves them (JsonElement).</summary>
public sealed class GraphPayloadTests
{
    private const string GroupPage = """
        {
          "@odata.type": "#microsoft.graph.group",
          "id": "g-sales",
          "displayName": "Sales",
          "members@delta": [
            { "@odata.type": "#microsoft.graph.user", "id": "u-ann" },
            { "@odata.type": "#microsoft.graph.user", "id": "u-bob", "@removed": { "reason": "deleted" } },
            { "@odata.type": "#microsoft.graph.group", "id": "g-nested" },
            { "@odata.type": "#microsoft.graph.device", "id": "d-1", "@removed": { "reason": "changed" } },
            { "id": "u-untyped" }
          ]
        }
        """;

    [Fact]
    public void MembersDelta_FromTheSdk_IsAnUntypedArrayWeCanRead()
    {
        var group = Parse(GroupPage, Group.CreateFromDiscriminatorValue);

        Assert.IsType<UntypedArray>(group.AdditionalData[GraphNames.MembersDelta]);
        var references = GraphPayload.ReferencesOf(group.AdditionalData, GraphNames.MembersDelta);

        AssertExpectedMembers(references);
    }

    [Fact]
    public void MembersDelta_FromSystemTextJson_IsAJsonElementWeCanRead()
    {
        var additionalData = JsonSerializer.Deserialize<Dictionary<string, object>>(GroupPage)!;

        Assert.IsType<JsonElement>(additionalData[GraphNames.MembersDelta]);
        var references = GraphPayload.ReferencesOf(additionalData, GraphNames.MembersDelta);

        AssertExpectedMembers(references);
    }

    [Fact]
    public void MembersDelta_Absent_IsNullAndEmptyArrayIsEmpty()
    {
        var without = Parse("""{ "id": "g1" }""", Group.CreateFromDiscriminatorValue);
        var empty = Parse("""{ "id": "g1", "members@delta": [] }""", Group.CreateFromDiscriminatorValue);

        Assert.Null(GraphPayload.ReferencesOf(without.AdditionalData, GraphNames.MembersDelta));
        Assert.Empty(GraphPayload.ReferencesOf(empty.AdditionalData, GraphNames.MembersDelta)!);
    }

    [Theory]
    [InlineData("""{ "id": "g1", "members@delta": { "id": "u1" } }""")]
    [InlineData("""{ "id": "g1", "members@delta": [ { "@odata.type": "#microsoft.graph.user" } ] }""")]
    [InlineData("""{ "id": "g1", "members@delta": [ "u1" ] }""")]
    public void MembersDelta_Malformed_IsRefusedNotSkipped(string json)
    {
        var group = Parse(json, Group.CreateFromDiscriminatorValue);

        Assert.Throws<FormatException>(() => GraphPayload.ReferencesOf(group.AdditionalData, GraphNames.MembersDelta));
    }

    [Theory]
    [InlineData("""{ "id": "u1", "@removed": { "reason": "changed" } }""", RemovalReason.SoftDeleted)]
    [InlineData("""{ "id": "u1", "@removed": { "reason": "deleted" } }""", RemovalReason.HardDeleted)]
    [InlineData("""{ "id": "u1", "@removed": { "reason": "somethingNew" } }""", RemovalReason.SoftDeleted)]
    [InlineData("""{ "id": "u1", "@removed": {} }""", RemovalReason.SoftDeleted)]
    public void Removed_Reason_MapsDeletedToHardAndAnythingElseToSoft(string json, RemovalReason expected)
    {
        var fromSdk = Parse(json, User.CreateFromDiscriminatorValue);
        var fromJson = JsonSerializer.Deserialize<Dictionary<string, object>>(json)!;

        Assert.Equal(expected, GraphPayload.RemovalOf(fromSdk.AdditionalData));
        Assert.Equal(expected, GraphPayload.RemovalOf(fromJson));
    }

    [Fact]
    public void Removed_Absent_IsNull()
    {
        var user = Parse("""{ "id": "u1", "displayName": "U" }""", User.CreateFromDiscriminatorValue);

        Assert.Null(GraphPayload.RemovalOf(user.AdditionalData));
    }

    [Fact]
    public void ManagerDelta_FromTheSdk_GivesTheManagerId()
    {
        var user = Parse("""
            { "id": "u1", "manager@delta": [ { "@odata.type": "#microsoft.graph.user", "id": "u-boss" } ] }
            """, User.CreateFromDiscriminatorValue);

        var manager = GraphPayload.ReferencesOf(user.AdditionalData, GraphNames.ManagerDelta);

        Assert.Equal("u-boss", Assert.Single(manager!).Id);
    }

    [Fact]
    public void Flatten_ObjectsArraysAndScalars_BecomeText()
    {
        var user = Parse("""
            { "id": "u1", "employeeOrgData": { "division": "EMEA", "costCenter": null }, "otherMails": ["a@b.c", "d@e.f"],
              "extension_abc_level": 7, "extension_abc_flag": true, "extension_abc_nested": { "a": { "b": "deep" } } }
            """, User.CreateFromDiscriminatorValue);
        var properties = new Dictionary<string, string>();

        GraphPayload.AddProperty(properties, "employeeOrgData", user.EmployeeOrgData);
        GraphPayload.AddProperty(properties, "otherMails", user.OtherMails);
        foreach (var name in new[] { "extension_abc_level", "extension_abc_flag", "extension_abc_nested" })
        {
            GraphPayload.AddProperty(properties, name, user.AdditionalData[name]);
        }

        Assert.Equal("EMEA", properties["employeeOrgData.division"]);
        Assert.False(properties.ContainsKey("employeeOrgData.costCenter"));
        Assert.Equal("[\"a@b.c\",\"d@e.f\"]", properties["otherMails"]);
        Assert.Equal("7", properties["extension_abc_level"]);
        Assert.Equal("true", properties["extension_abc_flag"]);
        Assert.Equal("deep", properties["extension_abc_nested.a.b"]);
    }

    private static void AssertExpectedMembers(IReadOnlyList<DeltaReference>? references)
    {
        Assert.NotNull(references);
        Assert.Equal(["u-ann", "u-bob", "g-nested", "d-1", "u-untyped"], references.Select(r => r.Id));
        Assert.Equal([true, true, false, false, true], references.Select(r => r.IsUser));
        Assert.Equal([null, RemovalReason.HardDeleted, null, RemovalReason.SoftDeleted, null], references.Select(r => r.Removed));
    }

    private static T Parse<T>(string json, ParsableFactory<T> factory)
        where T : IParsable
    {
        // As in the SDK, the parsed object reads untyped values from the document lazily: keep it alive.
        using var document = JsonDocument.Parse(json);
        return new JsonParseNode(document.RootElement.Clone()).GetObjectValue(factory)!;
    }
}
