using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json.Serialization;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>The one place an engine enum's members meet their words: the <c>[JsonStringEnumMemberName]</c> on each
/// member is read once, so JSON (the converter), text output, log properties and Table rows all use the same word,
/// and an enum member without one is a startup error rather than a silently different word.</summary>
public static class WireNames<TEnum>
    where TEnum : struct, Enum
{
    private static readonly FrozenDictionary<TEnum, string> Names = typeof(TEnum)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .ToFrozenDictionary(
            f => (TEnum)f.GetValue(null)!,
            f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name
                ?? throw new InvalidOperationException($"{typeof(TEnum).Name}.{f.Name} has no JsonStringEnumMemberName."));

    private static readonly FrozenDictionary<string, TEnum> Values =
        Names.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.OrdinalIgnoreCase);

    public static string Of(TEnum value) => Names.TryGetValue(value, out var name) ? name : value.ToString();

    /// <summary>The member a stored or configured word names (case-insensitive); false for any other word.</summary>
    public static bool TryParse(string? name, out TEnum value) => Values.TryGetValue(name ?? "", out value);
}

/// <summary>A setting that must be one of an enum's words (the message names the setting and the words). Empty is
/// valid, as it was for the <c>[RegularExpression]</c> this replaces: the default applies.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class WireNameAttribute<TEnum> : System.ComponentModel.DataAnnotations.ValidationAttribute
    where TEnum : struct, Enum
{
    public override bool IsValid(object? value) => value is null or "" || (value is string word && WireNames<TEnum>.TryParse(word, out _));
}

/// <summary><c>action.ToWireName()</c>: the word of <see cref="WireNames{TEnum}"/> for each engine enum.</summary>
public static class WireNameExtensions
{
    public static string ToWireName(this PlanAction action) => WireNames<PlanAction>.Of(action);

    public static string ToWireName(this ObjectKind kind) => WireNames<ObjectKind>.Of(kind);

    public static string ToWireName(this SubscriptionOutcome outcome) => WireNames<SubscriptionOutcome>.Of(outcome);

    public static string ToWireName(this ScopeMode mode) => WireNames<ScopeMode>.Of(mode);
}
