using System.Security.Cryptography;
using System.Text;

namespace ScimFunctions.Provisioning.Notifications;

/// <summary>MessageIds the engine builds around an object id (<c>{prefix}:{id}:{suffix}</c>). Service Bus refuses
/// one over 128 characters, and an object id may itself be up to 128 (its SessionId limit), so an id too long for
/// the whole to fit is cut and the cut part kept in a hash: still one id per object and suffix.</summary>
internal static class MessageIds
{
    /// <summary>Room for the <c>#rN</c> suffix the processor gives a retry copy.</summary>
    public const int MaxLength = GraphNotificationParser.MaxServiceBusIdLength - 8;

    private const int TruncatedIdLength = 80;

    public static string Bounded(string prefix, string objectId, string suffix)
    {
        var id = $"{prefix}:{objectId}:{suffix}";
        if (id.Length <= MaxLength)
        {
            return id;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(objectId + "\n" + suffix)).AsSpan(0, 12));
        return $"{prefix}:{objectId[..TruncatedIdLength]}~{hash}";
    }
}
