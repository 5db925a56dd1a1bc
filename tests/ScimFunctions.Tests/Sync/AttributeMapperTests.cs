using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Sync;

public sealed class AttributeMapperTests
{
    private static readonly AttributeMapper Default = new(AttributeMapper.DefaultRules(), "1");

    [Fact]
    public void DefaultMapping_ProjectsTheGenesysGalleryAttributes()
    {
        var user = SyncTestData.User(businessPhones: ["(425) 555-0100", "+1 425 555 0199"], mobile: "+1 206 555 0111");

        var values = Default.Project(user, managerScimId: "mgr-scim").Values;

        Assert.Equal("ada@contoso.com", values["userName"]);
        Assert.Equal("Ada Lovelace", values["displayName"]);
        Assert.Equal("true", values["active"]);
        Assert.Equal("ada@contoso.com", values["emails[type eq \"work\"].value"]);
        Assert.Equal("Engineer", values["title"]);
        Assert.Equal("+14255550100", values["phoneNumbers[type eq \"work\"].value"]);
        Assert.Equal("+12065550111", values["phoneNumbers[type eq \"mobile\"].value"]);
        Assert.Equal("Research", values[ScimSchemas.EnterpriseUser + ":department"]);
        Assert.Equal("mgr-scim", values[ScimSchemas.EnterpriseUser + ":manager"]);
        Assert.Equal("E1", values[ScimSchemas.EnterpriseUser + ":employeeNumber"]);
        Assert.Equal(user.Id, values["externalId"]);
    }

    [Fact]
    public void Project_ManagerNotProvisioned_LeavesItOutAndReportsItPending()
    {
        var result = Default.Project(SyncTestData.User(managerId: "22222222-2222-2222-2222-222222222222"), managerScimId: null);

        Assert.DoesNotContain(ScimSchemas.EnterpriseUser + ":manager", result.Values.Keys);
        Assert.Equal("22222222-2222-2222-2222-222222222222", result.PendingManagerId);
    }

    [Fact]
    public void Project_EmptySourceValues_AreAbsent()
    {
        var values = Default.Project(SyncTestData.User(jobTitle: null, department: "", mail: null), null).Values;

        Assert.DoesNotContain("title", values.Keys);
        Assert.DoesNotContain(ScimSchemas.EnterpriseUser + ":department", values.Keys);
        Assert.DoesNotContain("emails[type eq \"work\"].value", values.Keys);
    }

    [Fact]
    public void Transforms_LowerDefaultConstantAndCustomProperty_Apply()
    {
        var mapper = new AttributeMapper(
        [
            new() { Target = "userName", Source = "userPrincipalName", Transform = "lower,trim" },
            new() { Target = "title", Source = "jobTitle", Default = "Staff" },
            new() { Target = ScimSchemas.EnterpriseUser + ":division", Constant = "Home" },
            new() { Target = "nickName", Source = "companyName", Transforms = ["upper"] },
        ]);
        var user = SyncTestData.User(upn: " Ada@Contoso.COM ", jobTitle: null, properties: new() { ["companyName"] = "contoso" });

        var values = mapper.Project(user, null).Values;

        Assert.Equal("ada@contoso.com", values["userName"]);
        Assert.Equal("Staff", values["title"]);
        Assert.Equal("Home", values[ScimSchemas.EnterpriseUser + ":division"]);
        Assert.Equal("CONTOSO", values["nickName"]);
        Assert.Equal("true", values["active"]); // always owned, added when not mapped
    }

    [Fact]
    public void ParseRules_JsonSetting_ReplacesTheDefault()
    {
        var rules = AttributeMapper.ParseRules("""[{"target":"userName","source":"mail","transforms":["lower"]}]""", null, "Home");

        Assert.Equal(2, rules.Count);
        Assert.Equal("mail", rules[0].Source);
        Assert.EndsWith(":division", rules[1].Target, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseRules_MalformedJson_NamesTheSetting()
    {
        var ex = Assert.Throws<FormatException>(() => AttributeMapper.ParseRules("[{", null, null));
        Assert.Contains("Sync__AttributeMapping", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""[{"target":"displayName","source":"displayName"}]""", "must map 'userName'")]
    [InlineData("""[{"target":"userName","source":"upn","transforms":["reverse"]}]""", "unknown transform 'reverse'")]
    [InlineData("""[{"target":"userName","source":"upn"},{"target":"userName","source":"mail"}]""", "mapped twice")]
    [InlineData("""[{"target":"userName"}]""", "needs a 'source'")]
    [InlineData("""[{"target":"userName","source":"upn"},{"target":"groups","source":"x"}]""", "cannot be mapped")]
    public void Mapping_Invalid_FailsWithAClearMessage(string json, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => new AttributeMapper(AttributeMapper.ParseRules(json, null, null)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Sync__AttributeMapping", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mapping_ExtensionTheTargetDoesNotSupport_IsLeftOut()
    {
        var mapper = new AttributeMapper(AttributeMapper.DefaultRules(), null, new HashSet<string>());

        Assert.DoesNotContain(mapper.Attributes, a => a.Path.Schema is not null);
    }
}
