using Azure.Data.Tables;
using Microsoft.Extensions.Options;

namespace ScimFunctions.Provisioning.State;

/// <summary>Every check of the <c>State</c> settings: the attributes and rules on <see cref="StateOptions"/>, and that a
/// connection string is one the Table client accepts (checked here rather than at the first table call, with a
/// message that never quotes the string: it may hold the account key).</summary>
public sealed class StateOptionsValidator : IValidateOptions<StateOptions>
{
    public ValidateOptionsResult Validate(string? name, StateOptions options)
    {
        var failures = OptionsChecks.DataAnnotations(options, "Invalid State setting.").ToList();
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            try
            {
                _ = new TableServiceClient(options.ConnectionString);
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException)
            {
                failures.Add($"Setting {StateOptions.Section}__{nameof(StateOptions.ConnectionString)} is not a storage connection string: give UseDevelopmentStorage=true, an account connection string, or a table service URI.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
