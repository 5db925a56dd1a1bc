using System.Text;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>E.164 normalisation for the phone transforms. Genesys accepts E.164 or a tel URI
/// (<c>tel:+nnnn;ext=xxx</c>); anything that cannot be made into one is dropped rather than sent.</summary>
public static class PhoneNumbers
{
    /// <summary>Returns <c>+digits</c> (or <c>tel:+digits;ext=n</c> when an extension is given), or null
    /// when the input holds no usable number. National numbers need <paramref name="defaultCountryCode"/>.</summary>
    public static string? ToE164(string? input, string? defaultCountryCode)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return null;
        }

        var text = input.Trim();
        if (text.StartsWith("tel:", StringComparison.OrdinalIgnoreCase))
        {
            text = text[4..];
        }

        string? extension = null;
        foreach (var marker in (string[])[";ext=", " extension ", " ext. ", " ext ", " x", "x", "#"])
        {
            var at = text.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (at > 0)
            {
                var ext = new string(text[(at + marker.Length)..].Where(char.IsAsciiDigit).ToArray());
                if (ext.Length is > 0 and <= 10)
                {
                    extension = ext;
                }

                text = text[..at];
                break;
            }
        }

        var international = text.StartsWith('+');
        if (international || text.StartsWith("00", StringComparison.Ordinal))
        {
            // "+44 (0)20 …": the bracketed trunk prefix is not dialled internationally.
            text = text.Replace("(0)", "", StringComparison.Ordinal);
        }

        var digits = new StringBuilder();
        foreach (var c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                digits.Append(c);
            }
            else if (!(c is ' ' or '-' or '.' or '(' or ')' or '/' or '+' || char.IsWhiteSpace(c)))
            {
                return null; // letters and the like: not a phone number
            }
        }

        var number = digits.ToString();
        if (!international && number.StartsWith("00", StringComparison.Ordinal))
        {
            international = true;
            number = number[2..];
        }

        if (!international)
        {
            var country = defaultCountryCode?.Trim().TrimStart('+');
            if (string.IsNullOrEmpty(country) || !country.All(char.IsAsciiDigit))
            {
                return null;
            }

            // A national trunk prefix '0' is dropped when the country code is added (e.g. 020 → +4420).
            number = country + number.TrimStart('0');
        }

        if (number.Length is < 8 or > 15 || number[0] == '0')
        {
            return null;
        }

        return extension is null ? "+" + number : $"tel:+{number};ext={extension}";
    }
}
