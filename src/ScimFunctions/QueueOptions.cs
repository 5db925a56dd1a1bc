using System.ComponentModel.DataAnnotations;

namespace ScimFunctions;

/// <summary>The Service Bus settings the webhook and the trigger share, checked at start: without them the app
/// would start, answer Graph's handshake, and fail only on the first real delivery.</summary>
public sealed class QueueOptions : IValidatableObject
{
    [Required(ErrorMessage = "Setting " + ScimFunctionsRegistration.QueueNameSetting + " is required: the Service Bus queue that carries work items.")]
    public string? QueueName { get; set; }

    /// <summary><c>ServiceBusConnection</c> itself (a connection string, local runs only).</summary>
    public string? ConnectionString { get; set; }

    /// <summary><c>ServiceBusConnection__fullyQualifiedNamespace</c> (identity-based, in Azure).</summary>
    public string? FullyQualifiedNamespace { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString) && string.IsNullOrWhiteSpace(FullyQualifiedNamespace))
        {
            yield return new ValidationResult(
                $"Setting {ScimFunctionsRegistration.ServiceBusConnection}__fullyQualifiedNamespace is required (identity-based, e.g. contoso.servicebus.windows.net), or {ScimFunctionsRegistration.ServiceBusConnection} as a connection string for a local run.");
        }
    }
}
