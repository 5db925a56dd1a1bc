using System.Text.Json;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Sync;

/// <summary>The enums replaced string constants whose words are in the CLI's JSON, the staged-actions table, the
/// pending table and the destructive ledger's hashes: those words must not change.</summary>
public sealed class WireNamesTests
{
    public static TheoryData<PlanAction, string> PlanActionWords => new()
    {
        { PlanAction.Create, "create" }, { PlanAction.Adopt, "adopt" }, { PlanAction.Update, "update" },
        { PlanAction.Disable, "disable" }, { PlanAction.Reactivate, "reactivate" }, { PlanAction.Delete, "delete" },
        { PlanAction.Recreate, "recreate" }, { PlanAction.AddMembers, "add-members" }, { PlanAction.RemoveMembers, "remove-members" },
        { PlanAction.None, "none" }, { PlanAction.Stage, "stage" }, { PlanAction.Skip, "skip" }, { PlanAction.Fail, "fail" },
        { PlanAction.Drift, "drift" }, { PlanAction.Lifecycle, "lifecycle" },
    };

    [Theory]
    [MemberData(nameof(PlanActionWords))]
    public void PlanAction_IsWrittenAsItsWord_InJsonAndText(PlanAction action, string word)
    {
        Assert.Equal($"\"{word}\"", JsonSerializer.Serialize(action));
        Assert.Equal(word, action.ToWireName());
        Assert.True(WireNames<PlanAction>.TryParse(word, out var parsed));
        Assert.Equal(action, parsed);
    }

    [Fact]
    public void EveryPlanAction_HasAWord()
    {
        Assert.Equal(Enum.GetValues<PlanAction>().Length, PlanActionWords.Count);
    }

    [Fact]
    public void ObjectKindsAndOutcomes_KeepTheirWords()
    {
        Assert.Equal(["user", "group", "subscription"], Enum.GetValues<ObjectKind>().Select(k => k.ToWireName()));
        Assert.Equal(["current", "renewed", "created"], Enum.GetValues<SubscriptionOutcome>().Select(o => o.ToWireName()));
        Assert.Equal(["all", "groups", "filter"], Enum.GetValues<ScopeMode>().Select(m => m.ToWireName()));
    }

    [Fact]
    public void AnonymousCliObjects_SerialiseTheWords()
    {
        // The CLI's status and explain JSON are anonymous objects serialised by reflection.
        var operation = new PlannedOperation(ObjectKind.Group, "g-1", PlanAction.AddMembers, "members joined");
        var json = JsonSerializer.Serialize(new { kind = operation.ObjectKind, action = operation.Action });
        Assert.Equal("""{"kind":"group","action":"add-members"}""", json);
    }

    [Theory]
    [InlineData("all", ScopeMode.All)]
    [InlineData("Groups", ScopeMode.Groups)]
    [InlineData("FILTER", ScopeMode.Filter)]
    [InlineData("", ScopeMode.All)]
    public void ScopeMode_ReadsTheSettingCaseInsensitively(string setting, ScopeMode expected)
    {
        Assert.Equal(expected, new ScopeOptions { Mode = setting }.ParsedMode);
    }

    [Theory]
    [InlineData("everyone")]
    [InlineData(" all")]
    public void ScopeMode_AnyOtherWord_FailsValidationNamingTheSetting(string setting)
    {
        var options = new ScopeOptions { Mode = setting };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("Sync__Scope__Mode", StringComparison.Ordinal));
    }
}
