using System.ComponentModel.DataAnnotations;

namespace ScimFunctions.Provisioning.Notifications;

/// <summary>Settings section <c>Notifications</c>: what the webhook accepts.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>The secret given to Graph as the subscriptions' clientState (≤ 128 characters).
    /// In Azure a Key Vault reference; never logged.</summary>
    [Required(ErrorMessage = "Setting Notifications__ClientState is required: the secret Graph echoes in every notification.")]
    [StringLength(128, MinimumLength = 16, ErrorMessage = "Setting Notifications__ClientState must be 16 to 128 characters.")]
    public string ClientState { get; set; } = "";

    /// <summary>Largest accepted request body. Graph batches are far smaller; anything bigger is refused with 413.</summary>
    [Range(1024, 16 * 1024 * 1024, ErrorMessage = "Setting Notifications__MaxBodyBytes must be between 1024 and 16777216.")]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Longest accepted validation token. Graph's tokens are opaque but short.</summary>
    [Range(16, 8192, ErrorMessage = "Setting Notifications__MaxValidationTokenLength must be between 16 and 8192.")]
    public int MaxValidationTokenLength { get; set; } = 1024;
}
