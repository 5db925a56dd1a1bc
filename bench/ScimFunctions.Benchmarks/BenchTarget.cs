using GenesysScimEmulator;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Benchmarks;

/// <summary>The SCIM client every benchmark uses against the emulator: the genesys profile, the limiter far
/// above the emulator's lifted limit, so the figures count requests instead of waiting for them.</summary>
internal static class BenchTarget
{
    public static ScimClient Client(RunningEmulator emulator) => ScimClient.Create(new ScimOptions
    {
        Profile = "genesys",
        BaseUrl = emulator.ScimBaseUrl,
        LoginUrl = emulator.BaseAddress.GetLeftPart(UriPartial.Authority),
        ClientId = emulator.ClientId,
        ClientSecret = emulator.ClientSecret,
        RequestsPerMinute = 100_000,
        RequestBurst = 1_000,
    });
}
