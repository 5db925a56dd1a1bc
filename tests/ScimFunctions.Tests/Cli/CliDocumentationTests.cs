using System.CommandLine;
using System.Text.RegularExpressions;
using ScimFunctions.Cli;

namespace ScimFunctions.Tests.Cli;

/// <summary>Every <c>scimfn COMMAND</c> that the README, docs/ or the infra templates (alert texts) tell an
/// operator to run exists in the command tree.</summary>
public sealed partial class CliDocumentationTests
{
    [Fact]
    public void EveryCommandTheDocsName_Exists()
    {
        var harness = new CliHarness();
        var root = new ScimfnCommands(new CliContext(
            new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), TextWriter.Null, TextWriter.Null, false, harness.Engines, harness.Time)).Root;
        var commands = root.Subcommands.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var files = new[] { Path.Combine(SampleFiles.Root, "README.md") }
            .Concat(System.IO.Directory.EnumerateFiles(Path.Combine(SampleFiles.Root, "docs"), "*.md", SearchOption.AllDirectories))
            .Concat(System.IO.Directory.EnumerateFiles(Path.Combine(SampleFiles.Root, "infra"), "*.bicep", SearchOption.AllDirectories))
            .Append(Path.Combine(SampleFiles.Root, "main.bicep"));

        var unknown = new List<string>();
        var named = 0;
        foreach (var file in files)
        {
            foreach (Match match in NamedCommand().Matches(File.ReadAllText(file)))
            {
                named++;
                if (!commands.Contains(match.Groups["command"].Value))
                {
                    unknown.Add($"{Path.GetRelativePath(SampleFiles.Root, file)}: scimfn {match.Groups["command"].Value}");
                }
            }
        }

        Assert.True(named > 10, $"Only {named} commands named: the scan is broken.");
        Assert.True(unknown.Count == 0, $"Named in the docs but not a scimfn command: {string.Join("; ", unknown.Distinct())}");
    }

    // "scimfn sync", "`scimfn replay`", "(scimfn replay)"; not "scimfn's" or "scimfn (src/...)".
    [GeneratedRegex(@"\bscimfn (?<command>[a-z][a-z-]+)\b")]
    private static partial Regex NamedCommand();
}
