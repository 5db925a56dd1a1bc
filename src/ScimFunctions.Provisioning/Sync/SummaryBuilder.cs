using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Accumulates outcomes of one run (thread-safe) into a <see cref="SyncSummary"/>.</summary>
internal sealed class SummaryBuilder(ScimRequestCounts before)
{
    private readonly Lock _lock = new();
    private readonly List<PlannedOperation> _operations = [];
    private readonly List<ObjectFailure> _failures = [];
    private readonly SortedSet<string> _unmatched = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _groupNames = new(StringComparer.Ordinal);
    private int _created, _updated, _disabled, _deleted, _unchanged, _groupsUpdated, _membersAdded, _membersRemoved, _staged;

    public void Add(UserOutcome outcome)
    {
        lock (_lock)
        {
            _operations.AddRange(outcome.Operations);
            switch (outcome.Action)
            {
                case PlanAction.Create or PlanAction.Adopt or PlanAction.Recreate: _created++; break;
                case PlanAction.Update or PlanAction.Reactivate: _updated++; break;
                case PlanAction.Disable: _disabled++; break;
                case PlanAction.Delete: _deleted++; break;
                case PlanAction.None: _unchanged++; break;
                case PlanAction.Stage: _staged++; break;
                case PlanAction.Fail:
                    _failures.Add(new ObjectFailure(ObjectKind.User, outcome.ObjectId, (outcome.Operations.Count > 0 ? outcome.Operations[0].Reason : "failed")));
                    break;
            }
        }
    }

    public void Add(GroupOutcome outcome)
    {
        lock (_lock)
        {
            _operations.AddRange(outcome.Operations);
            if (outcome.MembersAdded + outcome.MembersRemoved > 0)
            {
                _groupsUpdated++;
            }

            if (outcome.DisplayName is { } name)
            {
                _groupNames[outcome.ObjectId] = name;
            }

            _membersAdded += outcome.MembersAdded;
            _membersRemoved += outcome.MembersRemoved;
            if (outcome.Unmatched)
            {
                _unmatched.Add(outcome.DisplayName ?? outcome.ObjectId);
            }
        }
    }

    public void Fail(ObjectKind kind, string objectId, string reason)
    {
        lock (_lock)
        {
            _failures.Add(new ObjectFailure(kind, objectId, reason));
            _operations.Add(new PlannedOperation(kind, objectId, PlanAction.Fail, reason));
        }
    }

    public void Note(PlannedOperation operation)
    {
        lock (_lock)
        {
            _operations.Add(operation);
        }
    }

    public int FailureCount
    {
        get
        {
            lock (_lock)
            {
                return _failures.Count;
            }
        }
    }

    public SyncSummary Build(ScimRequestCounts after)
    {
        lock (_lock)
        {
            return new SyncSummary(_created, _updated, _disabled, _deleted, _unchanged, _groupsUpdated, _membersAdded, _membersRemoved,
                _failures.Count, _staged, after.Requests - before.Requests, after.Writes - before.Writes,
                _unmatched.ToList(), _failures.ToList(), _operations.ToList()) { GroupNames = new Dictionary<string, string>(_groupNames, StringComparer.Ordinal) };
        }
    }
}
