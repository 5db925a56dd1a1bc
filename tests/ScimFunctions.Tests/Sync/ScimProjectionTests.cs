using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Sync;

public sealed class ScimProjectionTests
{
    private static readonly AttributeMapper Mapper = new(AttributeMapper.DefaultRules(), "1");
    private const string Work = "phoneNumbers[type eq \"work\"].value";
    private const string Mobile = "phoneNumbers[type eq \"mobile\"].value";
    private const string Department = ScimSchemas.EnterpriseUser + ":department";
    private const string Manager = ScimSchemas.EnterpriseUser + ":manager";

    private static SortedDictionary<string, string> P(params (string Key, string Value)[] pairs) =>
        new(pairs.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);

    [Fact]
    public void Diff_Unchanged_IsEmpty()
    {
        var a = P(("userName", "a@x"), ("active", "true"), (Department, "R"));

        Assert.Empty(ScimProjection.Diff(a, P(("userName", "a@x"), ("active", "true"), (Department, "R")), Mapper));
        Assert.Equal(ScimProjection.Hash(a), ScimProjection.Hash(P((Department, "R"), ("active", "true"), ("userName", "a@x"))));
    }

    [Fact]
    public void Diff_ChangedAttribute_IsOneReplaceOfThatPathOnly()
    {
        var ops = ScimProjection.Diff(P(("userName", "a@x"), (Department, "R")), P(("userName", "a@x"), (Department, "Sales")), Mapper);

        var op = Assert.Single(ops);
        Assert.Equal("replace", op.Op);
        Assert.Equal(Department, op.Path);
        Assert.Equal("Sales", op.Value!.GetValue<string>());
    }

    [Fact]
    public void Diff_ClearedAttribute_IsARemove()
    {
        var ops = ScimProjection.Diff(P(("userName", "a@x"), ("title", "Eng")), P(("userName", "a@x")), Mapper);

        var op = Assert.Single(ops);
        Assert.Equal("remove", op.Op);
        Assert.Equal("title", op.Path);
    }

    [Fact]
    public void Diff_ClearedPhone_RemovesTheWholeEntry()
    {
        var ops = ScimProjection.Diff(P(("userName", "a@x"), (Mobile, "+1")), P(("userName", "a@x")), Mapper);

        Assert.Equal("phoneNumbers[type eq \"mobile\"]", Assert.Single(ops).Path);
    }

    [Fact]
    public void Diff_NewPhone_AddsAWholeEntry_ChangedPhone_ReplacesTheFilteredPath()
    {
        var ops = ScimProjection.Diff(P(("userName", "a@x"), (Mobile, "+1206")), P(("userName", "a@x"), (Mobile, "+1207"), (Work, "+1425")), Mapper);

        Assert.Equal(2, ops.Count);
        var replace = ops.Single(o => o.Op == "replace");
        Assert.Equal(Mobile, replace.Path);
        var add = ops.Single(o => o.Op == "add");
        Assert.Equal("phoneNumbers", add.Path);
        var entry = Assert.Single(add.Value!.AsArray())!.AsObject();
        Assert.Equal("work", (string?)entry["type"]);
        Assert.Equal("+1425", (string?)entry["value"]);
    }

    [Fact]
    public void Diff_Manager_IsAReferenceObject_ActiveIsBoolean_UserNameIgnoresCase()
    {
        var ops = ScimProjection.Diff(P(("userName", "A@X"), ("active", "true")), P(("userName", "a@x"), ("active", "false"), (Manager, "m1")), Mapper);

        Assert.Equal(2, ops.Count);
        Assert.False(ops.Single(o => o.Path == "active").Value!.GetValue<bool>());
        Assert.Equal("m1", (string?)ops.Single(o => o.Path == Manager).Value!["value"]);
    }

    [Fact]
    public void Diff_AttributesNotOwned_AreNeverTouched()
    {
        var ops = ScimProjection.Diff(P(("userName", "a@x"), ("nickName", "old")), P(("userName", "a@x")), Mapper);

        Assert.Empty(ops);
    }

    [Fact]
    public void CreateBody_NestsExtensionsAndMultiValuedEntries()
    {
        var body = ScimProjection.BuildCreateBody(P(("userName", "a@x"), ("active", "true"), (Work, "+1425"), (Department, "R"), (Manager, "m1")), Mapper);

        Assert.Equal("a@x", (string?)body["userName"]);
        Assert.True((bool?)body["active"]);
        Assert.Equal("+1425", (string?)body["phoneNumbers"]![0]!["value"]);
        Assert.Equal("work", (string?)body["phoneNumbers"]![0]!["type"]);
        Assert.Equal("R", (string?)body[ScimSchemas.EnterpriseUser]!["department"]);
        Assert.Equal("m1", (string?)body[ScimSchemas.EnterpriseUser]!["manager"]!["value"]);
        Assert.Contains(ScimSchemas.EnterpriseUser, body["schemas"]!.AsArray().Select(n => (string?)n));
    }

    [Fact]
    public void ReadCurrent_OfTheCreateBody_RoundTrips()
    {
        var desired = P(("userName", "a@x"), ("active", "false"), (Work, "+1425"), (Mobile, "+1206"), (Department, "R"), (Manager, "m1"), ("externalId", "o1"));
        var body = ScimProjection.BuildCreateBody(desired, Mapper);
        body["id"] = "t1";
        body["meta"] = new JsonObject { ["version"] = "\"3\"" };

        var current = ScimProjection.ReadCurrent(body, Mapper);

        Assert.Equal(desired, current);
        Assert.Empty(ScimProjection.Diff(current, desired, Mapper));
    }
}
