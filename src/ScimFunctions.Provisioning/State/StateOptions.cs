using System.ComponentModel.DataAnnotations;

namespace ScimFunctions.Provisioning.State;

/// <summary>Settings section <c>State</c>: where the mapping tables live.</summary>
public sealed class StateOptions : IValidatableObject
{
    public const string Section = "State";

    /// <summary>Local development and Azurite: a storage connection string (<c>UseDevelopmentStorage=true</c>).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Azure: the table endpoint, e.g. <c>https://acct.table.core.windows.net</c>, reached with a managed identity.</summary>
    public Uri? TableServiceUri { get; set; }

    /// <summary>Client id of the user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ClientId { get; set; }

    /// <summary>Prefix of every table name (letters and digits), so several connectors or test runs can share an account.</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{0,39}$", ErrorMessage = "Setting State__TablePrefix must start with a letter and hold only letters and digits (at most 40).")]
    public string TablePrefix { get; set; } = StateStore.DefaultPrefix;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TableServiceUri is { OriginalString.Length: 0 })
        {
            TableServiceUri = null; // an empty setting means "not set"
        }

        if (string.IsNullOrWhiteSpace(ConnectionString) && TableServiceUri is null)
        {
            yield return new ValidationResult(
                "Setting State__ConnectionString (local, Azurite) or State__TableServiceUri (Azure, managed identity) is required: the Table Storage account that holds the mappings.",
                [nameof(ConnectionString), nameof(TableServiceUri)]);
        }

        if (TableServiceUri is { } uri && (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && !uri.IsLoopback)))
        {
            yield return new ValidationResult("Setting State__TableServiceUri must be an absolute https URL (http only to a loopback address).", [nameof(TableServiceUri)]);
        }
    }
}
