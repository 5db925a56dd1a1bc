namespace ScimFunctions.Provisioning.Sync;

/// <summary>What a dry run pretends a user is on the target after the step it would take: an existing target
/// user (adopted or reactivated, <see cref="ScimId"/> known) or one it would create (no id yet). Later steps of the
/// same plan (a report's manager, a group's members) read it from <see cref="RunContext.SimulatedActive"/>.</summary>
public sealed record SimulatedTarget(string? ScimId)
{
    /// <summary>A user the dry run would create.</summary>
    public static SimulatedTarget Created { get; } = new((string?)null);

    /// <summary>How a plan writes a reference (a report's manager) to a user it would provision: the plan compares
    /// paths, not this value, so one placeholder serves.</summary>
    public const string Reference = "(new)";

    public bool IsNew => ScimId is null;

    /// <summary>The id in a simulated member set: the target id, or one placeholder per created user so that two
    /// new members count as two.</summary>
    public string MemberId(string objectId) => ScimId ?? $"(new:{objectId})";
}
