using System.Collections.Concurrent;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace ServiceBusTestDouble.Amqp;

/// <summary>A request/response node ($cbs, &lt;queue&gt;/$management). The SDK's RequestResponseAmqpLink
/// attaches a pair: a sender for requests and a receiver whose target is its reply-to address. A request
/// names that address in properties.reply-to; the reply carries correlation-id = the request's message-id.</summary>
internal sealed class ReplyNode(Func<AmqpMessage, AmqpMessage> handler)
{
    private readonly ConcurrentDictionary<string, SendingAmqpLink> repliesTo = new(StringComparer.Ordinal);

    public void Attach(AmqpLink link)
    {
        if (link is ReceivingAmqpLink requests)
        {
            requests.RegisterMessageListener(message => OnRequest(requests, message));
            return;
        }

        var replies = (SendingAmqpLink)link;
        var replyTo = (replies.Settings.Target as Target)?.Address?.ToString()
            ?? throw new AmqpException(AmqpErrorCode.InvalidField, "A reply link needs a target address (the reply-to).");
        repliesTo[replyTo] = replies;
        replies.Closed += (_, _) => repliesTo.TryRemove(new KeyValuePair<string, SendingAmqpLink>(replyTo, replies));
    }

    private void OnRequest(ReceivingAmqpLink requests, AmqpMessage request)
    {
        using (request)
        {
            if (!request.Settled)
            {
                requests.AcceptMessage(request, true, false);
            }

            var replyTo = request.Properties?.ReplyTo?.ToString();
            if (replyTo is null || !repliesTo.TryGetValue(replyTo, out var replies))
            {
                // Nowhere to answer; the client times out, as with a real namespace.
                return;
            }

            var response = handler(request);
            response.Properties.CorrelationId = request.Properties!.MessageId;
            response.Settled = true;
            replies.SendMessageNoWait(response, AmqpConstants.EmptyBinary, AmqpConstants.NullBinary);
        }
    }
}
