using System.Collections.Concurrent;
using System.Text.Json;
using FunctionsHostDouble.Protocol;
using Grpc.Core;

namespace FunctionsHostDouble;

/// <summary>One worker's open <c>EventStream</c>, driven from the host's side: each request waits for the response
/// that carries its request id (or, for an invocation, its invocation id). Logs the worker sends are kept.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2213", Justification = "The token source and lock outlive Dispose on purpose: the read loop observes the cancellation.")]
public sealed class WorkerConnection : IDisposable
{
    private readonly IServerStreamWriter<StreamingMessage> writer;
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> pending = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RpcLog> logs = new();
    private readonly CancellationTokenSource closed = new();

    internal WorkerConnection(string workerId, IServerStreamWriter<StreamingMessage> writer)
    {
        WorkerId = workerId;
        this.writer = writer;
    }

    public string WorkerId { get; }

    /// <summary>Time the worker's <c>StartStream</c> arrived.</summary>
    public DateTimeOffset ConnectedAt { get; } = DateTimeOffset.UtcNow;

    public IReadOnlyCollection<RpcLog> Logs => logs;

    public static TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public async Task<WorkerInitResponse> InitAsync(string appDirectory, IReadOnlyDictionary<string, string>? hostCapabilities = null)
    {
        var request = new WorkerInitRequest { HostVersion = "4.1040.0.0", WorkerDirectory = appDirectory, FunctionAppDirectory = appDirectory };
        foreach (var (name, value) in hostCapabilities ?? new Dictionary<string, string>())
        {
            request.Capabilities[name] = value;
        }

        var response = await RequestAsync(new StreamingMessage { WorkerInitRequest = request });
        return response.WorkerInitResponse;
    }

    public async Task<FunctionMetadataResponse> GetFunctionMetadataAsync(string appDirectory)
    {
        var response = await RequestAsync(new StreamingMessage { FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = appDirectory } });
        return response.FunctionMetadataResponse;
    }

    /// <summary>Loads a function as the host does after worker indexing: the metadata the worker reported, with the
    /// binding map built from its raw bindings (name → type and direction).</summary>
    public async Task<FunctionLoadResponse> LoadAsync(RpcFunctionMetadata indexed, string appDirectory)
    {
        var metadata = indexed.Clone();
        metadata.Directory = appDirectory;
        metadata.Bindings.Clear();
        foreach (var raw in indexed.RawBindings)
        {
            using var binding = JsonDocument.Parse(raw);
            var root = binding.RootElement;
            var info = new BindingInfo
            {
                Type = root.GetProperty("type").GetString()!,
                Direction = root.TryGetProperty("direction", out var direction) && direction.GetString() is { } d
                    ? Enum.Parse<BindingInfo.Types.Direction>(d, ignoreCase: true)
                    : BindingInfo.Types.Direction.In,
            };
            if (root.TryGetProperty("dataType", out var dataType) && dataType.GetString() is { } t)
            {
                info.DataType = Enum.Parse<BindingInfo.Types.DataType>(t, ignoreCase: true);
            }

            metadata.Bindings[root.GetProperty("name").GetString()!] = info;
        }

        var response = await RequestAsync(new StreamingMessage { FunctionLoadRequest = new FunctionLoadRequest { FunctionId = metadata.FunctionId, Metadata = metadata } });
        return response.FunctionLoadResponse;
    }

    /// <summary>Invokes a function. As the host does, every invocation carries a W3C trace context (the worker
    /// reads it unconditionally) and a retry context.</summary>
    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, TimeSpan? timeout = null)
    {
        request.TraceContext ??= new RpcTraceContext { TraceParent = $"00-{Guid.NewGuid():N}-{Guid.NewGuid().ToString("N")[..16]}-01" };
        request.RetryContext ??= new RetryContext();
        var response = await RequestAsync(new StreamingMessage { InvocationRequest = request }, "invocation:" + request.InvocationId, timeout);
        return response.InvocationResponse;
    }

    public Task TerminateAsync() => WriteAsync(new StreamingMessage { RequestId = Guid.NewGuid().ToString(), WorkerTerminate = new WorkerTerminate() });

    private async Task<StreamingMessage> RequestAsync(StreamingMessage message, string? key = null, TimeSpan? timeout = null)
    {
        message.RequestId = Guid.NewGuid().ToString();
        key ??= message.RequestId;
        var response = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[key] = response;
        await WriteAsync(message);
        try
        {
            return await response.Task.WaitAsync(timeout ?? DefaultTimeout, closed.Token);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The worker did not answer {message.ContentCase} within {timeout ?? DefaultTimeout}. Its last logs:\n{string.Join('\n', logs.TakeLast(20).Select(l => $"{l.Level} {l.Category}: {l.Message} {l.Exception?.Message}"))}");
        }
        finally
        {
            pending.TryRemove(key, out _);
        }
    }

    private async Task WriteAsync(StreamingMessage message)
    {
        await writeLock.WaitAsync(closed.Token);
        try
        {
            await writer.WriteAsync(message, closed.Token);
        }
        finally
        {
            writeLock.Release();
        }
    }

    internal async Task ReadUntilClosedAsync(IAsyncStreamReader<StreamingMessage> reader, CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closed.Token);
        try
        {
            while (await reader.MoveNext(both.Token))
            {
                var message = reader.Current;
                switch (message.ContentCase)
                {
                    case StreamingMessage.ContentOneofCase.RpcLog:
                        logs.Enqueue(message.RpcLog);
                        break;
                    case StreamingMessage.ContentOneofCase.InvocationResponse:
                        Complete("invocation:" + message.InvocationResponse.InvocationId, message);
                        break;
                    default:
                        Complete(message.RequestId, message);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (both.IsCancellationRequested)
        {
            // The host double is closing, or the worker went away.
        }
        catch (IOException)
        {
            // The worker process ended mid-stream.
        }
        finally
        {
            foreach (var waiting in pending.Values)
            {
                waiting.TrySetException(new InvalidOperationException($"Worker {WorkerId} closed its stream."));
            }
        }
    }

    private void Complete(string key, StreamingMessage message)
    {
        if (pending.TryGetValue(key, out var waiting))
        {
            waiting.TrySetResult(message);
        }
    }

    /// <summary>Ends the stream from the host's side (the worker then stops, as when the host goes away).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            // Cancelled, not disposed: the read loop and any waiting request still observe the token.
            closed.Cancel();
        }
    }

    private int disposed;
}
