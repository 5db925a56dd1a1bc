using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ScimFunctions.Provisioning;

/// <summary>Helpers for the one validator each options class has (<see cref="IValidateOptions{TOptions}"/>), so a host
/// with options validation (the Functions app) and one without (the CLI, before it builds anything) report the
/// same messages.</summary>
public static class OptionsChecks
{
    /// <summary>The validator's failures for <paramref name="options"/>; empty when valid.</summary>
    public static IReadOnlyList<string> Failures<TOptions>(this IValidateOptions<TOptions> validator, TOptions options)
        where TOptions : class
    {
        var result = validator.Validate(Options.DefaultName, options);
        return result.Failed ? [.. result.Failures ?? [result.FailureMessage]] : [];
    }

    /// <summary>The data-annotation (and <see cref="IValidatableObject"/>) failures of one settings object.</summary>
    public static IEnumerable<string> DataAnnotations(object section, string fallback)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(section, new ValidationContext(section), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? fallback);
    }
}
