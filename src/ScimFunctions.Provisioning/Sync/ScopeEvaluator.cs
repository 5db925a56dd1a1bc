using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Decides whether a user is in scope: everyone (default), members of configured groups, or a
/// filter on user properties. Scope group members are cached briefly so a burst of user work items
/// does not re-read the same groups.</summary>
public sealed class ScopeEvaluator : IDisposable
{
    private readonly ScopeOptions _options;
    private readonly IDirectorySource _directory;
    private readonly TimeProvider _time;
    private readonly ScopeFilter? _filter;
    private readonly string[] _groups;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private (DateTimeOffset At, HashSet<string> Members)? _cache;

    public ScopeEvaluator(ScopeOptions options, IDirectorySource directory, TimeProvider time)
    {
        _options = options;
        _directory = directory;
        _time = time;
        Mode = options.Mode.ToLowerInvariant();
        _groups = (options.Groups ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (Mode == "filter")
        {
            _filter = ScopeFilter.Parse(options.Filter ?? "");
        }
        else if (Mode == "groups" && _groups.Length == 0)
        {
            throw new FormatException("Setting Sync__Scope__Groups must list at least one Entra group id when Sync__Scope__Mode is groups.");
        }
    }

    public string Mode { get; }

    public void Dispose() => _lock.Dispose();

    /// <summary>Null when in scope; otherwise why not.</summary>
    public async Task<string?> OutOfScopeReasonAsync(DirectoryUser user, CancellationToken cancellationToken = default)
    {
        switch (Mode)
        {
            case "filter":
                return _filter!.Matches(user) ? null : $"does not match the scope filter ({_filter.Text})";
            case "groups":
                var members = await ScopeMembersAsync(cancellationToken);
                return members.Contains(user.Id) ? null : "not a member of a scope group";
            default:
                return null;
        }
    }

    /// <summary>Makes the next check re-read the scope groups (after a scope group changed).</summary>
    public void Invalidate() => _cache = null;

    public bool IsScopeGroup(string groupId) => Mode == "groups" && _groups.Contains(groupId, StringComparer.OrdinalIgnoreCase);

    private async Task<HashSet<string>> ScopeMembersAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_cache is { } c && now - c.At < TimeSpan.FromSeconds(_options.GroupCacheSeconds))
        {
            return c.Members;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_cache is { } again && now - again.At < TimeSpan.FromSeconds(_options.GroupCacheSeconds))
            {
                return again.Members;
            }

            var members = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var id in _groups)
            {
                // A scope group that cannot be read fails the check (DirectoryUnavailableException):
                // nobody is judged out of scope on a failed read. A group that does not exist has no members.
                var group = await _directory.GetGroupAsync(id, _options.Transitive, cancellationToken);
                if (group is not null)
                {
                    members.UnionWith(group.MemberIds);
                }
            }

            _cache = (now, members);
            return members;
        }
        finally
        {
            _lock.Release();
        }
    }
}
