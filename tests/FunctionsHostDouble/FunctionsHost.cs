using System.Collections.Concurrent;
using System.Net;
using FunctionsHostDouble.Protocol;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FunctionsHostDouble;

/// <summary>The host's gRPC endpoint on a loopback port: the worker dials it, opens <c>EventStream</c> and
/// identifies itself with <c>StartStream</c>; <see cref="AcceptWorkerAsync"/> hands the connection to the test,
/// which then drives the protocol as the host would.</summary>
public sealed class FunctionsHost : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<WorkerConnection>> workers = new(StringComparer.Ordinal);

    private FunctionsHost(WebApplication app)
    {
        this.app = app;
    }

    public Uri Endpoint { get; private set; } = null!;

    public static async Task<FunctionsHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = null);
        builder.Services.AddSingleton<EventStreamService.Registry>();
        var app = builder.Build();
        var host = new FunctionsHost(app);
        app.Services.GetRequiredService<EventStreamService.Registry>().Host = host;
        app.MapGrpcService<EventStreamService>();
        await app.StartAsync();
        host.Endpoint = new Uri(app.Urls.First());
        return host;
    }

    /// <summary>Waits for the worker with this id to open its stream.</summary>
    public async Task<WorkerConnection> AcceptWorkerAsync(string workerId, TimeSpan timeout)
    {
        var pending = workers.GetOrAdd(workerId, _ => new TaskCompletionSource<WorkerConnection>(TaskCreationOptions.RunContinuationsAsynchronously));
        return await pending.Task.WaitAsync(timeout);
    }

    internal void Connected(WorkerConnection connection) =>
        workers.GetOrAdd(connection.WorkerId, _ => new TaskCompletionSource<WorkerConnection>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(connection);

    public async ValueTask DisposeAsync()
    {
        foreach (var pending in workers.Values)
        {
            if (pending.Task.IsCompletedSuccessfully)
            {
                pending.Task.Result.Dispose();
            }
        }

        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>The generated gRPC service: one call per worker, open for the worker's life.</summary>
    internal sealed class EventStreamService(EventStreamService.Registry registry) : FunctionRpc.FunctionRpcBase
    {
        public override async Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
        {
            if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.ContentCase != StreamingMessage.ContentOneofCase.StartStream)
            {
                throw new Grpc.Core.RpcException(new Status(StatusCode.InvalidArgument, "The first message of a worker's stream must be StartStream."));
            }

            var connection = new WorkerConnection(requestStream.Current.StartStream.WorkerId, responseStream);
            registry.Host!.Connected(connection);
            await connection.ReadUntilClosedAsync(requestStream, context.CancellationToken);
        }

        /// <summary>Lets the service (created by gRPC's DI) reach the host that owns it.</summary>
        internal sealed class Registry
        {
            public FunctionsHost? Host { get; set; }
        }
    }
}
