using System.Text.RegularExpressions;
using ScimFunctions.IntegrationTests.Build;

namespace ScimFunctions.IntegrationTests.Docs;

/// <summary>What the README and docs/ name exists: a source file cited as `Dir/File.cs` is in the tree.</summary>
public sealed partial class DocumentationTruthTests
{
    [Fact]
    public void EverySourceFileTheDocsCite_Exists()
    {
        var root = StandInPublishTests.RepositoryRoot();
        var sources = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(path => Path.GetRelativePath(root, path).Replace('\\', '/'))
            .ToList();

        var missing = new List<string>();
        foreach (var doc in Documents(root))
        {
            foreach (Match match in CitedSourceFile().Matches(File.ReadAllText(doc)))
            {
                var cited = match.Groups["path"].Value;
                // A cited path may be partial (Scim/ScimClient.cs): any file whose path ends with it will do.
                if (!sources.Any(s => s == cited || s.EndsWith("/" + cited, StringComparison.Ordinal)))
                {
                    missing.Add($"{Path.GetRelativePath(root, doc)}: {cited}");
                }
            }
        }

        Assert.True(missing.Count == 0, $"The docs cite source files that do not exist: {string.Join("; ", missing)}");
    }

    internal static IEnumerable<string> Documents(string root) =>
        [Path.Combine(root, "README.md"), .. Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories)];

    [GeneratedRegex(@"`(?<path>[A-Za-z0-9_.\-/]+\.cs)`")]
    private static partial Regex CitedSourceFile();
}
