using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using ScimFunctions.Provisioning.Sync.Entitlements;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Every check of the <c>Sync</c> settings, each failure naming its setting: the attributes on every section,
/// the attribute mapping, the entitlement rules, the scope filter and groups. The host runs it at start; the CLI and
/// the tests reach it through the same registration.</summary>
/// <param name="configuration">Where <c>Sync__AttributeMapping</c> may be one JSON string rather than a bound array.</param>
public sealed class SyncOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<SyncOptions>
{
    public ValidateOptionsResult Validate(string? name, SyncOptions options)
    {
        var failures = new List<string>();
        foreach (var section in new object[] { options, options.Scope, options.Threshold, options.Groups })
        {
            failures.AddRange(OptionsChecks.DataAnnotations(section, "Invalid Sync setting."));
        }

        var attributeMappingJson = configuration?[$"{SyncOptions.Section}:{nameof(SyncOptions.AttributeMapping)}"];
        try
        {
            _ = new AttributeMapper(AttributeMapper.ParseRules(attributeMappingJson, options.AttributeMapping, options.Division), options.DefaultPhoneCountryCode);
        }
        catch (FormatException ex)
        {
            failures.Add(ex.Message);
        }

        try
        {
            var rules = EntitlementRules.Parse(options.Entitlements);
            var mapsDivision = AttributeMapper.ParseRules(attributeMappingJson, options.AttributeMapping, options.Division)
                .Any(r => string.Equals(r.Target?.Trim(), EntitlementProjection.DivisionKey, StringComparison.OrdinalIgnoreCase));
            if (rules.GivesDivision && mapsDivision)
            {
                failures.Add($"Setting {EntitlementRules.Setting} gives divisions while Sync__Division or Sync__AttributeMapping also sets the division; keep one (put the constant in defaultDivision).");
            }
        }
        catch (FormatException ex)
        {
            failures.Add(ex.Message);
        }

        if (options.Scope.ParsedMode == ScopeMode.Filter)
        {
            try
            {
                ScopeFilter.Parse(options.Scope.Filter ?? "");
            }
            catch (FormatException ex)
            {
                failures.Add(ex.Message);
            }
        }

        if (options.Scope.ParsedMode == ScopeMode.Groups && string.IsNullOrWhiteSpace(options.Scope.Groups))
        {
            failures.Add("Setting Sync__Scope__Groups must list at least one Entra group id when Sync__Scope__Mode is groups.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
