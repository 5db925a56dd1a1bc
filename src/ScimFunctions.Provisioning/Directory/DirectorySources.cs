using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>Directory sources for hosts without a container (the <c>scimfn</c> CLI, tests).</summary>
public static class DirectorySources
{
    /// <summary>Microsoft Graph with the given settings (validated; the error names each bad setting).</summary>
    public static GraphDirectorySource Graph(GraphOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null) =>
        new(GraphClients.Create(options), options, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GraphDirectorySource>(), time);

    /// <summary>Microsoft Graph (or a Graph double) at <paramref name="baseUrl"/> with a token obtained elsewhere:
    /// <c>scimfn --graph-url URL --graph-token TOKEN</c>.</summary>
    public static GraphDirectorySource GraphWithToken(string baseUrl, string token, ILoggerFactory? loggerFactory = null) =>
        Graph(new GraphOptions { BaseUrl = baseUrl, Credential = GraphCredentialKinds.Token, StaticToken = token }, loggerFactory);

    /// <summary>A snapshot file; the state of the last snapshot seen is kept in <paramref name="stateDirectory"/>
    /// (default <see cref="FileSnapshotStateStore.DefaultDirectory"/>).</summary>
    public static SnapshotDirectorySource Snapshot(string path, string? stateDirectory = null, ILoggerFactory? loggerFactory = null) =>
        new(path, new FileSnapshotStateStore(stateDirectory ?? FileSnapshotStateStore.DefaultDirectory), (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SnapshotDirectorySource>());
}
