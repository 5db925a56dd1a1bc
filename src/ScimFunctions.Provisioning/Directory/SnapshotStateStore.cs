using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>Where the snapshot source keeps what it saw last, so a delta against a snapshot is the
/// difference from the last snapshot seen. States are content-addressed: the cursor names the state, a
/// state is never changed once saved, so a caller that fails before storing its new cursor simply gets
/// the same difference again.</summary>
public interface ISnapshotStateStore
{
    /// <summary>The state saved under <paramref name="key"/>, or null when there is none (never saved, or pruned).</summary>
    Task<byte[]?> LoadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Saves <paramref name="content"/> under <paramref name="key"/>; saving the same key again is harmless.</summary>
    Task SaveAsync(string key, byte[] content, CancellationToken cancellationToken = default);
}

/// <summary>Snapshot states as files in one folder (the CLI's choice), written atomically; only the newest
/// few states per kind are kept.</summary>
public sealed partial class FileSnapshotStateStore(string directory, int keepPerKind = 20) : ISnapshotStateStore
{
    /// <summary>The default folder: <c>scimfn/snapshot-state</c> under the user's local application data.</summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "scimfn", "snapshot-state");

    public string Directory { get; } = directory;

    public async Task<byte[]?> LoadAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public async Task SaveAsync(string key, byte[] content, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        System.IO.Directory.CreateDirectory(Directory);
        // Content-addressed: rewriting the same key writes the same bytes, and refreshes its age for pruning.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(temporary, content, cancellationToken);
        File.Move(temporary, path, overwrite: true);
        Prune(key[..key.IndexOf('-', StringComparison.Ordinal)]);
    }

    private void Prune(string kind)
    {
        var stale = new DirectoryInfo(Directory).GetFiles($"{kind}-*.json")
            .OrderByDescending(f => f.LastWriteTimeUtc)
            .Skip(keepPerKind);
        foreach (var file in stale)
        {
            try
            {
                file.Delete();
            }
            catch (IOException)
            {
                // Another run may be reading or pruning it; the next save tries again.
            }
        }
    }

    private string PathOf(string key)
    {
        // Keys come from cursors a caller stored; accept only the shape this source makes, never a path.
        if (!KeyPattern().IsMatch(key))
        {
            throw new ArgumentException($"'{key}' is not a snapshot state key.", nameof(key));
        }

        return Path.Combine(Directory, key + ".json");
    }

    [GeneratedRegex("^[a-z]+-[0-9a-f]{32}$")]
    private static partial Regex KeyPattern();
}

/// <summary>Snapshot states in memory: for tests and one-process runs.</summary>
public sealed class InMemorySnapshotStateStore : ISnapshotStateStore
{
    private readonly ConcurrentDictionary<string, byte[]> states = new(StringComparer.Ordinal);

    public int Count => states.Count;

    public Task<byte[]?> LoadAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(states.TryGetValue(key, out var content) ? content : null);

    public Task SaveAsync(string key, byte[] content, CancellationToken cancellationToken = default)
    {
        states[key] = content;
        return Task.CompletedTask;
    }

    /// <summary>Forgets every state, as if the folder had been wiped.</summary>
    public void Clear() => states.Clear();
}
