using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using GenesysScimEmulator;
using GenesysScimEmulator.State;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class HostingTests
{
    private static async Task<string> TokenAsync(HttpClient client, string tokenUrl)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, tokenUrl) { Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("local-client:local-secret"u8.ToArray()));
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
    }

    private static string WriteSeed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"emulator-seed-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            { "groups": [ { "displayName": "Sales", "members": [ { "value": "ann@example.com" } ] } ],
              "users": [ { "userName": "ann@example.com", "displayName": "Ann", "externalId": "e-1" } ] }
            """);
        return path;
    }

    [Fact]
    public async Task EmulatorHost_ServesScimOnARealLoopbackPort()
    {
        await using var emulator = await EmulatorHost.StartAsync(o => o.ConflictStatus = 409);
        using var client = new HttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(client, emulator.TokenUrl));

        using var create = await client.PostAsync($"{emulator.ScimBaseUrl}/users",
            new StringContent("""{"userName":"ann@example.com","displayName":"Ann"}""", Encoding.UTF8, "application/scim+json"));
        var user = JsonNode.Parse(await create.Content.ReadAsStringAsync())!;

        Assert.Equal("127.0.0.1", emulator.BaseAddress.Host);
        Assert.NotEqual(0, emulator.BaseAddress.Port);
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.StartsWith(emulator.ScimBaseUrl + "/users/", user["meta"]!["location"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(409, emulator.State.Settings.Current.ConflictStatus);
        Assert.Equal(1, emulator.State.Counters.Count("POST", "users"));
    }

    [Fact]
    public async Task EmulatorHost_DroppedConnectionFault_ResetsTheRealConnection()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        emulator.State.Faults.Set(new FaultSettings { DropCount = 1 });
        using var client = new HttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", emulator.IssueToken());

        var error = await Record.ExceptionAsync(() => client.GetAsync($"{emulator.ScimBaseUrl}/users"));
        using var next = await client.GetAsync($"{emulator.ScimBaseUrl}/users");

        Assert.IsType<HttpRequestException>(error);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task WebApplicationFactory_WithSeedSetting_LoadsTheSeedAndResetRestoresIt()
    {
        var seed = WriteSeed();
        try
        {
            await using var factory = new WebApplicationFactory<EmulatorOptions>()
                .WithWebHostBuilder(b => b.UseSetting("Emulator:SeedPath", seed));
            var state = factory.Services.GetService(typeof(EmulatorState)) as EmulatorState;
            using var client = factory.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", state!.Tokens.Issue().AccessToken);

            using var delete = await client.PostAsync("/_emulator/reset", null);
            var users = JsonNode.Parse(await client.GetStringAsync("/api/v2/scim/v2/users"))!;
            var groups = JsonNode.Parse(await client.GetStringAsync("/api/v2/scim/groups"))!;

            Assert.Equal("ann@example.com", users["Resources"]![0]!["userName"]!.GetValue<string>());
            Assert.Equal(users["Resources"]![0]!["id"]!.GetValue<string>(), groups["Resources"]![0]!["members"]![0]!["value"]!.GetValue<string>());
        }
        finally
        {
            File.Delete(seed);
        }
    }

    [Fact]
    public async Task CommandLine_WithUrlsAndSeed_ServesTheSeededUsers()
    {
        var seed = WriteSeed();
        using var process = Process.Start(new ProcessStartInfo("dotnet", ["GenesysScimEmulator.dll", "--urls", "http://127.0.0.1:0", "--seed", seed])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DOTNET_ENVIRONMENT"] = "Production", ["ASPNETCORE_ENVIRONMENT"] = "Production" },
        })!;
        try
        {
            var address = await ReadListeningAddressAsync(process);
            using var client = new HttpClient { BaseAddress = new Uri(address) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(client, "/oauth/token"));

            var users = JsonNode.Parse(await client.GetStringAsync("/api/v2/scim/v2/users?filter=userName eq \"ann@example.com\""))!;

            Assert.Equal(1, users["totalResults"]!.GetValue<int>());
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            File.Delete(seed);
        }
    }

    private static async Task<string> ReadListeningAddressAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = new StringBuilder();
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            output.AppendLine(line);
            const string Marker = "Now listening on: ";
            var index = line.IndexOf(Marker, StringComparison.Ordinal);
            if (index >= 0)
            {
                return line[(index + Marker.Length)..].Trim();
            }
        }

        throw new InvalidOperationException($"The emulator did not report its address. Output:\n{output}\n{await process.StandardError.ReadToEndAsync()}");
    }
}
