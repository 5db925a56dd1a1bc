using System.Runtime.ExceptionServices;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;

namespace ScimFunctions.Provisioning.State;

/// <summary>The options every Table Storage client of the connector is built with.
/// Azure.Core retries a request that failed in transport (connection refused or reset: the storage service
/// restarting, a network blip) and, when every attempt failed so, throws an <see cref="AggregateException"/> of
/// the attempts' <see cref="RequestFailedException"/>s, not a <see cref="RequestFailedException"/>. The engine
/// classifies Table failures by <see cref="RequestFailedException"/> (transient unless 400), so an aggregate slipped
/// past every such catch: a work item met during a storage outage threw out of ProvisionObject, was redelivered at
/// once and dead-lettered by the broker at its max delivery count without a reason (found by the chaos run against
/// a real Azurite stopped mid-run). <see cref="UnwrapRetryFailures"/> rethrows the last attempt's exception instead.</summary>
public static class StateClientOptions
{
    public static TableClientOptions Create()
    {
        var options = new TableClientOptions();
        // PerCall runs outside Azure.Core's retry policy, so it sees what the retries ended with.
        options.AddPolicy(new UnwrapRetryFailures(), HttpPipelinePosition.PerCall);
        return options;
    }

    /// <summary>An aggregate of the retried attempts' failures becomes the last attempt's
    /// <see cref="RequestFailedException"/> (status 0 for a transport failure, the transport exception inside); when
    /// every attempt timed out, a <see cref="RequestFailedException"/> with status 0 that holds the aggregate. An
    /// aggregate holding anything else, or a cancellation the caller asked for, passes unchanged.</summary>
    public sealed class UnwrapRetryFailures : HttpPipelinePolicy
    {
        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            try
            {
                await ProcessNextAsync(message, pipeline);
            }
            catch (AggregateException aggregate) when (Unwrap(aggregate, message) is { } failure)
            {
                ExceptionDispatchInfo.Throw(failure);
            }
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            try
            {
                ProcessNext(message, pipeline);
            }
            catch (AggregateException aggregate) when (Unwrap(aggregate, message) is { } failure)
            {
                ExceptionDispatchInfo.Throw(failure);
            }
        }

        internal static RequestFailedException? Unwrap(AggregateException aggregate, HttpMessage message)
        {
            var attempts = aggregate.InnerExceptions;
            if (message.CancellationToken.IsCancellationRequested || attempts.Count == 0
                || !attempts.All(e => e is RequestFailedException or OperationCanceledException))
            {
                return null;
            }

            return attempts.OfType<RequestFailedException>().LastOrDefault()
                ?? new RequestFailedException(0, $"Table Storage did not answer within the network timeout in {attempts.Count} attempts.", aggregate);
        }
    }
}
