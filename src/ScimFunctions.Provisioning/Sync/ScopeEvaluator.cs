using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Decides whether a user is in scope: everyone (default), members of configured groups, or a
/// filter on user properties. Scope group members are cached briefly so a burst of user work items
/// does not re-read the same groups. A scope group Graph answers 404 for (deleted, or a typo in the setting) is a
/// configuration failure, never an empty group: a user found in no readable scope group is then not judged at
/// all (<see cref="FailureReasons.ScopeGroupNotFound"/>), so nobody leaves scope because a group vanished.</summary>
public sealed class ScopeEvaluator : IDisposable
{
    private readonly ScopeOptions _options;
    private readonly IDirectorySource _directory;
    private readonly TimeProvider _time;
    private readonly ScopeFilter? _filter;
    private readonly string[] _groups;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly ILogger? _logger;
    private (DateTimeOffset At, HashSet<string> Members, IReadOnlyList<string> Missing)? _cache;

    public ScopeEvaluator(ScopeOptions options, IDirectorySource directory, TimeProvider time, ILogger<ScopeEvaluator>? logger = null)
    {
        _logger = logger;
        _options = options;
        _directory = directory;
        _time = time;
        Mode = options.ParsedMode;
        _groups = (options.Groups ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (Mode == ScopeMode.Filter)
        {
            _filter = ScopeFilter.Parse(options.Filter ?? "");
        }
        else if (Mode == ScopeMode.Groups && _groups.Length == 0)
        {
            throw new FormatException("Setting Sync__Scope__Groups must list at least one Entra group id when Sync__Scope__Mode is groups.");
        }
    }

    public ScopeMode Mode { get; }

    public void Dispose() => _lock.Dispose();

    /// <summary>Null when in scope; otherwise why not.</summary>
    public async Task<string?> OutOfScopeReasonAsync(DirectoryUser user, CancellationToken cancellationToken = default)
    {
        switch (Mode)
        {
            case ScopeMode.Filter:
                return _filter!.Matches(user) ? null : $"does not match the scope filter ({_filter.Text})";
            case ScopeMode.Groups:
                var (members, missing) = await ScopeMembersAsync(cancellationToken);
                if (members.Contains(user.Id))
                {
                    return null;
                }

                if (missing.Count > 0)
                {
                    // The user may be a member of a group that cannot be read: out of scope is not proven.
                    throw new ProvisioningException(FailureReasons.ScopeGroupNotFound, MissingMessage(missing), isTransient: true);
                }

                return "not a member of a scope group";
            default:
                return null;
        }
    }

    /// <summary>Makes the next check re-read the scope groups (after a scope group changed).</summary>
    public void Invalidate() => _cache = null;

    public bool IsScopeGroup(string groupId) => Mode == ScopeMode.Groups && _groups.Contains(groupId, StringComparer.OrdinalIgnoreCase);

    /// <summary>Names the groups and the setting, for the operator.</summary>
    public static string MissingMessage(IReadOnlyList<string> missing) =>
        $"Scope group {string.Join(", ", missing)} named in Sync__Scope__Groups is not found in Entra (deleted, or a typo in the setting); users outside the other scope groups are not judged out of scope, and nothing is disabled or deleted for scope until the setting is fixed.";

    private async Task<(HashSet<string> Members, IReadOnlyList<string> Missing)> ScopeMembersAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_cache is { } c && now - c.At < TimeSpan.FromSeconds(_options.GroupCacheSeconds))
        {
            return (c.Members, c.Missing);
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_cache is { } again && now - again.At < TimeSpan.FromSeconds(_options.GroupCacheSeconds))
            {
                return (again.Members, again.Missing);
            }

            var members = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var missing = new List<string>();
            foreach (var id in _groups)
            {
                // A scope group that cannot be read fails the check (DirectoryUnavailableException): nobody is
                // judged out of scope on a failed read. A group that does not exist is a configuration failure.
                var group = await _directory.GetGroupAsync(id, _options.Transitive, cancellationToken);
                if (group is not null)
                {
                    members.UnionWith(group.MemberIds);
                }
                else
                {
                    missing.Add(id);
                }
            }

            if (missing.Count > 0 && _logger is not null)
            {
                EngineLog.ScopeGroupNotFound(_logger, string.Join(", ", missing));
            }

            _cache = (now, members, missing);
            return (members, missing);
        }
        finally
        {
            _lock.Release();
        }
    }
}
