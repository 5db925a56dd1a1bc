using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Answers "which target id does Entra user X have, and is it active?" and "is target user T one
/// of ours?" for group convergence. Loaded once by a full scan (a sync, a large group), or answered by
/// point reads for a small group.</summary>
public sealed class UserIndex
{
    private readonly StateStore _store;
    private readonly Dictionary<string, UserKey>? _byObjectId;
    private readonly HashSet<string>? _managedScimIds;
    private Dictionary<string, string>? _byScimId;

    private UserIndex(StateStore store, Dictionary<string, UserKey>? byObjectId, HashSet<string>? managedScimIds)
    {
        _store = store;
        _byObjectId = byObjectId;
        _managedScimIds = managedScimIds;
    }

    public static UserIndex PointReads(StateStore store) => new(store, null, null);

    public static async Task<UserIndex> LoadAsync(StateStore store, CancellationToken cancellationToken = default)
    {
        var byObjectId = new Dictionary<string, UserKey>(StringComparer.Ordinal);
        var managed = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var key in store.ListUserKeysAsync(cancellationToken))
        {
            byObjectId[key.ObjectId] = key;
            if (key.ScimId is not null && key.State is not LifecycleState.Failed)
            {
                managed.Add(key.ScimId);
            }
        }

        return new UserIndex(store, byObjectId, managed);
    }

    public bool IsLoaded => _byObjectId is not null;

    public async Task<UserKey?> GetAsync(string objectId, CancellationToken cancellationToken = default)
    {
        if (_byObjectId is not null)
        {
            return _byObjectId.GetValueOrDefault(objectId);
        }

        var mapping = await _store.GetUserAsync(objectId, cancellationToken);
        return mapping is null ? null : new UserKey(mapping.ObjectId, mapping.ScimId, mapping.State);
    }

    /// <summary>True when the target user id belongs to a user this connector manages (created or adopted, any state but failed).</summary>
    public async Task<bool> IsManagedScimIdAsync(string scimId, CancellationToken cancellationToken = default)
    {
        if (_managedScimIds is not null)
        {
            return _managedScimIds.Contains(scimId);
        }

        var found = await _store.FindUsersByScimIdAsync(scimId, cancellationToken);
        return found.Any(m => m.State is not LifecycleState.Failed);
    }

    /// <summary>The Entra id of the managed user holding target id <paramref name="scimId"/>, for the history of a
    /// member taken out of a group; null when none. A loaded index answers from memory; otherwise one query.</summary>
    public async Task<string?> FindObjectIdAsync(string scimId, CancellationToken cancellationToken = default)
    {
        if (_byObjectId is not null)
        {
            lock (_byObjectId)
            {
                _byScimId ??= _byObjectId.Values.Where(k => k.ScimId is not null && k.State is not LifecycleState.Failed)
                    .GroupBy(k => k.ScimId!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().ObjectId, StringComparer.Ordinal);
                return _byScimId.GetValueOrDefault(scimId);
            }
        }

        var found = await _store.FindUsersByScimIdAsync(scimId, cancellationToken);
        return found.FirstOrDefault(m => m.State is not LifecycleState.Failed)?.ObjectId;
    }

    /// <summary>Keeps a loaded index current after a user changed during the same run.</summary>
    public void Update(UserKey key)
    {
        if (_byObjectId is null)
        {
            return;
        }

        lock (_byObjectId)
        {
            _byObjectId[key.ObjectId] = key;
            _byScimId = null;
            if (key.ScimId is not null && key.State is not LifecycleState.Failed)
            {
                _managedScimIds!.Add(key.ScimId);
            }
        }
    }
}
