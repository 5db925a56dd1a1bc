using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Sync;

public sealed class PhoneNumbersTests
{
    [Theory]
    [InlineData("+1 425 555 0100", null, "+14255550100")]
    [InlineData("+44 (0)20 7946 0000", null, "+442079460000")]
    [InlineData("0044 20 7946 0000", null, "+442079460000")]
    [InlineData("020 7946 0000", "44", "+442079460000")]
    [InlineData("(425) 555-0100", "1", "+14255550100")]
    [InlineData("+1 425 555 0100 x123", null, "tel:+14255550100;ext=123")]
    [InlineData("tel:+14255550100", null, "+14255550100")]
    public void ToE164_NormalisesCommonFormats(string input, string? country, string expected)
    {
        Assert.Equal(expected, PhoneNumbers.ToE164(input, country));
    }

    [Theory]
    [InlineData("(425) 555-0100", null)]
    [InlineData("call me", "1")]
    [InlineData("+1 23", null)]
    [InlineData("", "1")]
    public void ToE164_Unusable_IsNull(string input, string? country)
    {
        Assert.Null(PhoneNumbers.ToE164(input, country));
    }
}
