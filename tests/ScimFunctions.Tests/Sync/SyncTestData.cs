using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Tests.Sync;

internal static class SyncTestData
{
    public static DirectoryUser User(
        string id = "11111111-1111-1111-1111-111111111111",
        string? upn = "ada@contoso.com",
        string? displayName = "Ada Lovelace",
        bool enabled = true,
        string? mail = "ada@contoso.com",
        string? jobTitle = "Engineer",
        string? department = "Research",
        string? employeeId = "E1",
        string? mobile = null,
        IReadOnlyList<string>? businessPhones = null,
        string? managerId = null,
        Dictionary<string, string>? properties = null) =>
        new(id, upn, displayName, enabled, mail, jobTitle, department, employeeId, mobile, businessPhones ?? [], managerId, properties ?? new Dictionary<string, string>());
}
