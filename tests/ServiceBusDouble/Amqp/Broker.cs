using System.Net;
using System.Net.Sockets;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace ServiceBusTestDouble.Amqp;

/// <summary>The AMQP side of the double: accepts connections (SASL "MSSBCBS", the mechanism the SDK
/// offers before CBS), answers $cbs put-token with 200, attaches send and (non-session) receive links to
/// known queues, and serves schedule-message on &lt;queue&gt;/$management. Everything else is refused
/// with an AMQP error.</summary>
internal sealed class Broker : IRuntimeProvider
{
    private const string CbsNode = "$cbs";
    private const string ManagementSuffix = "/$management";
    private static readonly AmqpSymbol SessionFilter = "com.microsoft:session-filter";
    private static readonly AmqpSymbol ScheduleOperation = "com.microsoft:schedule-message";

    private readonly ServiceBusDouble owner;
    private readonly ulong maxMessageSize;
    private readonly AmqpSettings settings;
    private readonly Dictionary<string, ReplyNode> replyNodes = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<AmqpConnection> connections = [];
    private AmqpTransportListener? listener;

    public Broker(ServiceBusDouble owner, ulong maxMessageSize)
    {
        this.owner = owner;
        this.maxMessageSize = maxMessageSize;
        settings = new AmqpSettings { RuntimeProvider = this };
        var version = new AmqpVersion(1, 0, 0);
        var sasl = new SaslTransportProvider();
        sasl.Versions.Add(version);
        // The SDK authenticates with a CBS token after the connection opens; SASL only names the mechanism.
        sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS"));
        sasl.AddHandler(new SaslAnonymousHandler());
        settings.TransportProviders.Add(sasl);
        var amqp = new AmqpTransportProvider();
        amqp.Versions.Add(version);
        settings.TransportProviders.Add(amqp);
    }

    public int Port { get; private set; }

    public void Listen(int port)
    {
        // The library's TCP listener binds 127.0.0.1 only when given that address, but cannot report the
        // port it got for port 0: take a free one first, and try another should it be taken meanwhile.
        for (var attempt = 1; ; attempt++)
        {
            var chosen = port != 0 ? port : FreeLoopbackPort();
            var tcp = new TcpTransportSettings { Host = "127.0.0.1", Port = chosen }.CreateListener();
            var amqpListener = new AmqpTransportListener([tcp], settings);
            try
            {
                amqpListener.Listen(OnTransportAccepted);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && port == 0 && attempt < 5)
            {
                amqpListener.SafeClose();
                continue;
            }

            listener = amqpListener;
            Port = chosen;
            return;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Stops listening and drops every connection (the clients see the link and connection close).</summary>
    public void Stop()
    {
        listener?.Close();
        listener = null;
        AmqpConnection[] open;
        lock (connections)
        {
            open = [.. connections];
            connections.Clear();
        }

        // Abort, not close: the socket goes at once, as when a namespace node fails, and no transfer still
        // in flight on an old connection gets stored after this returns (see IsCurrent).
        foreach (var connection in open)
        {
            connection.Abort();
        }
    }

    private void OnTransportAccepted(TransportListener source, TransportAsyncCallbackArgs args)
    {
        var connectionSettings = new AmqpConnectionSettings
        {
            ContainerId = "servicebus-double",
            MaxFrameSize = AmqpConstants.DefaultMaxFrameSize,
            IdleTimeOut = 4 * 60 * 1000,
        };
        AmqpConnection? connection = null;
        try
        {
            connection = new AmqpConnection(args.Transport, (ProtocolHeader)args.UserToken, false, settings, connectionSettings);
            owner.CountConnection();
            lock (connections)
            {
                connections.Add(connection);
            }

            var opened = connection;
            connection.Closed += (_, _) =>
            {
                lock (connections)
                {
                    connections.Remove(opened);
                }
            };
            _ = OpenAsync(connection);
        }
        catch (Exception ex) when (ex is AmqpException or InvalidOperationException or IOException)
        {
            connection?.SafeClose(ex);
        }
    }

    private static async Task OpenAsync(AmqpConnection connection)
    {
        try
        {
            await connection.OpenAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is AmqpException or InvalidOperationException or IOException or TimeoutException or OperationCanceledException)
        {
            connection.SafeClose(ex);
        }
    }

    public AmqpConnection CreateConnection(TransportBase transport, ProtocolHeader protocolHeader, bool isInitiator, AmqpSettings amqpSettings, AmqpConnectionSettings connectionSettings) =>
        new(transport, protocolHeader, isInitiator, amqpSettings, connectionSettings);

    public AmqpSession CreateSession(AmqpConnection connection, AmqpSessionSettings settings) =>
        new(connection, settings, this);

    public AmqpLink CreateLink(AmqpSession session, AmqpLinkSettings settings)
    {
        if (settings.IsReceiver())
        {
            // The client sends: to a queue, or a request to $cbs / $management.
            settings.MaxMessageSize = maxMessageSize;
            return new ReceivingAmqpLink(session, settings);
        }

        return new SendingAmqpLink(session, settings);
    }

    public IAsyncResult BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
    {
        // The client's address: where it sends (our receiver's target) or what it reads (our sender's source).
        var address = Normalize(link.IsReceiver ? (link.Settings.Target as Target)?.Address : (link.Settings.Source as Source)?.Address);
        if (string.Equals(address, CbsNode, StringComparison.OrdinalIgnoreCase))
        {
            Node(CbsNode, _ => CbsResponse()).Attach(link);
        }
        else if (address.EndsWith(ManagementSuffix, StringComparison.OrdinalIgnoreCase))
        {
            var queue = address[..^ManagementSuffix.Length];
            RequireQueue(queue);
            if (ServiceBusDouble.IsDeadLetterQueue(queue))
            {
                throw new AmqpException(AmqpErrorCode.NotImplemented, $"The Service Bus double has no management operations on '{queue}'.");
            }

            Node(address, request => Manage(queue, request)).Attach(link);
        }
        else if (link is ReceivingAmqpLink receiver)
        {
            RequireQueue(address);
            if (ServiceBusDouble.IsDeadLetterQueue(address))
            {
                // As in Service Bus: a dead-letter queue is filled by dead-lettering, never sent to.
                throw new AmqpException(AmqpErrorCode.NotAllowed, $"Cannot send to the dead-letter queue '{address}'.");
            }

            var queue = address;
            receiver.RegisterMessageListener(message => OnTransfer(queue, receiver, message));
        }
        else
        {
            RequireQueue(address);
            if ((link.Settings.Source as Source)?.FilterSet is { } filters && filters.Any(f => Equals(f.Key.Key, SessionFilter)))
            {
                throw new AmqpException(AmqpErrorCode.NotImplemented, $"The Service Bus double has no sessions (session receiver on '{address}').");
            }

            _ = new Consumer((SendingAmqpLink)link, owner.Queue(address));
        }

        return new CompletedResult(callback, state);
    }

    public void EndOpenLink(IAsyncResult result)
    {
    }

    private void RequireQueue(string queue)
    {
        if (!owner.HasQueue(queue))
        {
            throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{queue}' could not be found (the Service Bus double has: {string.Join(", ", owner.QueueNames)}, each with {ServiceBusDouble.DeadLetterSuffix}).");
        }
    }

    private ReplyNode Node(string address, Func<AmqpMessage, AmqpMessage> handler)
    {
        lock (replyNodes)
        {
            if (!replyNodes.TryGetValue(address, out var node))
            {
                node = new ReplyNode(handler);
                replyNodes.Add(address, node);
            }

            return node;
        }
    }

    private void OnTransfer(string queue, ReceivingAmqpLink link, AmqpMessage message)
    {
        using (message)
        {
            if (!IsCurrent(link))
            {
                // Arrived on a connection Stop already dropped: the client never hears back and resends.
                return;
            }

            owner.CountTransfer();
            var refusal = owner.RefuseSends;
            if (refusal != SendRefusal.None)
            {
                link.DisposeMessage(message, new Rejected { Error = RefusalError(refusal) }, true, false);
                return;
            }

            IReadOnlyList<MessageDecoder.Decoded> decoded;
            try
            {
                decoded = MessageDecoder.DecodeTransfer(message);
            }
            catch (Exception ex) when (ex is FormatException or AmqpException or InvalidCastException or ArgumentException)
            {
                link.DisposeMessage(message, new Rejected { Error = new Error { Condition = AmqpErrorCode.DecodeError, Description = ex.Message } }, true, false);
                return;
            }

            owner.Queue(queue).Store(decoded, viaSchedule: false);
            link.DisposeMessage(message, AmqpConstants.AcceptedOutcome, true, false);
        }
    }

    private bool IsCurrent(AmqpLink link)
    {
        lock (connections)
        {
            return link.Session?.Connection is { } connection && connections.Contains(connection);
        }
    }

    private static AmqpMessage CbsResponse()
    {
        var response = AmqpMessage.Create();
        response.ApplicationProperties.Map["status-code"] = 200;
        response.ApplicationProperties.Map["status-description"] = "OK";
        return response;
    }

    /// <summary>Serves com.microsoft:schedule-message (ScheduleMessage(s)Async); every other management
    /// operation (peek, renew lock, cancel scheduled...) answers 501.</summary>
    private AmqpMessage Manage(string queue, AmqpMessage request)
    {
        var operation = request.ApplicationProperties?.Map["operation"] as string;
        if (!string.Equals(operation, ScheduleOperation.Value, StringComparison.Ordinal))
        {
            return ManagementError(501, AmqpErrorCode.NotImplemented, $"The Service Bus double does not implement management operation '{operation}'.");
        }

        var refusal = owner.RefuseSends;
        if (refusal != SendRefusal.None)
        {
            owner.CountTransfer();
            var error = RefusalError(refusal);
            return ManagementError(403, error.Condition, error.Description);
        }

        owner.CountTransfer();
        var body = (request.ValueBody?.Value as AmqpMap)?[new MapKey("messages")] as IEnumerable<object>;
        var decoded = new List<MessageDecoder.Decoded>();
        foreach (var entry in body ?? [])
        {
            if (entry is not AmqpMap map || map[new MapKey("message")] is not ArraySegment<byte> encoded)
            {
                return ManagementError(400, AmqpErrorCode.DecodeError, "A schedule-message entry has no 'message' binary.");
            }

            using var inner = MessageDecoder.FromBytes(encoded.ToArray());
            decoded.Add(MessageDecoder.Decode(inner));
        }

        if (decoded.Count == 0)
        {
            return ManagementError(400, AmqpErrorCode.DecodeError, "schedule-message carried no messages.");
        }

        var sequenceNumbers = owner.Queue(queue).Store(decoded, viaSchedule: true);
        var response = AmqpMessage.Create(new AmqpValue { Value = new AmqpMap { [new MapKey("sequence-numbers")] = sequenceNumbers } });
        response.ApplicationProperties.Map["statusCode"] = 200;
        return response;
    }

    private static AmqpMessage ManagementError(int status, AmqpSymbol condition, string description)
    {
        var response = AmqpMessage.Create();
        response.ApplicationProperties.Map["statusCode"] = status;
        response.ApplicationProperties.Map["errorCondition"] = condition;
        response.ApplicationProperties.Map["statusDescription"] = description;
        return response;
    }

    private static Error RefusalError(SendRefusal refusal) => new()
    {
        Condition = refusal switch
        {
            SendRefusal.QuotaExceeded => AmqpErrorCode.ResourceLimitExceeded,
            SendRefusal.ServerBusy => "com.microsoft:server-busy",
            SendRefusal.Unauthorized => AmqpErrorCode.UnauthorizedAccess,
            _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal, "Not a refusal."),
        },
        Description = $"The Service Bus double refuses sends (RefuseSends = {refusal}).",
    };

    private static string Normalize(Address? address) => (address?.ToString() ?? string.Empty).TrimStart('/');

    /// <summary>BeginOpenLink's work is synchronous; this completes it on the spot.</summary>
    private sealed class CompletedResult : IAsyncResult
    {
        public CompletedResult(AsyncCallback callback, object state)
        {
            AsyncState = state;
            callback(this);
        }

        public object AsyncState { get; }

        public WaitHandle AsyncWaitHandle => throw new NotSupportedException();

        public bool CompletedSynchronously => true;

        public bool IsCompleted => true;
    }
}
