namespace ScimFunctions.Provisioning.State;

/// <summary>Table Storage forbids <c>/ \ # ?</c> and control characters in PartitionKey and RowKey and
/// limits each to 1 KiB. Every key the engine builds passes through here, so a bad id fails loudly
/// instead of corrupting a query.</summary>
public static class TableKeys
{
    private const int MaxKeyLength = 512;

    public static string Validate(string key, string what)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
        {
            throw new ArgumentException($"The {what} is empty; it cannot be a Table Storage key.", nameof(key));
        }

        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException($"The {what} is {key.Length} characters long; Table Storage keys are limited to {MaxKeyLength} here.", nameof(key));
        }

        foreach (var c in key)
        {
            if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                throw new ArgumentException($"The {what} contains '{(char.IsControl(c) ? $"U+{(int)c:X4}" : c.ToString())}', which Table Storage forbids in keys.", nameof(key));
            }
        }

        return key;
    }

    public static bool IsValid(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength)
        {
            return false;
        }

        foreach (var c in key)
        {
            if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }
}
