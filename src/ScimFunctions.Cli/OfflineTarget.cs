using System.Reflection;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Cli;

/// <summary>Stands in for the SCIM target and the directory in commands that only read or write Table Storage
/// (status, staged discard): the engine is built whole, but a call that would leave the machine is a bug and
/// says so. A proxy rather than a class per interface, so the stand-in never lags behind the contracts.</summary>
#pragma warning disable CA1852 // DispatchProxy derives a type from this one at run time.
internal class OfflineTarget : DispatchProxy
#pragma warning restore CA1852
{
    private static readonly ScimTargetCapabilities Capabilities = new(false, false, false, 50, new HashSet<string>());
    private static readonly ScimRequestCounts Counts = new(0, 0, 0, 0);

    public static IScimClient ScimClient() => Create<IScimClient, OfflineTarget>();

    public static IDirectorySource Directory() => Create<IDirectorySource, OfflineTarget>();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
    {
        "get_" + nameof(IScimClient.Capabilities) => Capabilities,
        "get_" + nameof(IScimClient.Counts) => Counts,
        _ => throw new InvalidOperationException($"{targetMethod?.DeclaringType?.Name}.{targetMethod?.Name}: this command works on Table Storage only and must not contact the target or the directory."),
    };
}
