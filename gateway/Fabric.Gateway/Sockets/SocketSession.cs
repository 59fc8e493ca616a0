using System.Diagnostics;
using System.Net.WebSockets;
using System.Threading.Channels;
using Fabric.Contracts;
using Fabric.Gateway.Sockets.Auth;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// One client socket: a receive loop that handles frames in order, and a send loop that is the only writer to the
/// socket. Everything the server sends goes through one queue, so frames leave in the order they were queued. Event
/// frames carry their seq, so that when the queue overflows its untaken events can be dropped and the socket resumed
/// from the last one the send loop took (the feed then catches it up from the log).
/// </summary>
internal sealed partial class SocketSession : IDisposable
{
    private readonly WebSocket _socket;
    private readonly SocketOptions _options;
    private readonly ILogger _logger;
    private readonly Queue<Outgoing> _queue = new();

    // Rung when something is queued; the send loop drains everything queued at each ring.
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly CancellationTokenSource _receiveAbort = new();
    private long _queuedBytes;
    private long _lastProgress = Environment.TickCount64;
    private CloseRequest? _close;

    // A replay or catch-up waiting for room in the queue (at most one per socket: the feed positions it once at a time).
    private TaskCompletionSource? _roomWaiter;

    private readonly CoalescingStream? _coalescer;

    // coalescer: the stream under the socket, when it can gather a batch's writes into one (null: one write per frame).
    public SocketSession(
        string customer, string id, SocketCredential credential, WebSocket socket, SocketOptions options, ILogger logger, CoalescingStream? coalescer = null)
    {
        Customer = customer;
        Id = id;
        Credential = credential;
        _socket = socket;
        _options = options;
        _logger = logger;
        _coalescer = coalescer;
        _inboundTokens = options.MessageBurst;
    }

    /// <summary>A new session id: <c>ses_</c> and a version-7 GUID, so ids sort by connection time.</summary>
    public static string NewId() => "ses_" + Guid.CreateVersion7().ToString("N");

    public string Id { get; }

    public string Customer { get; }

    /// <summary>Who the socket authenticated as and what it may do; replaced by a <c>refresh</c>.</summary>
    public SocketCredential Credential { get; set; }

    public DateTimeOffset ConnectedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Topics whose joins and leaves this socket asked for (<c>"presence": true</c>); touched by its receive loop only.</summary>
    public IReadOnlyList<string> Watching { get; set; } = [];

    /// <summary>This session as the customer's grain keeps it.</summary>
    public SessionInfo Describe(string gateway) => new(Id, Credential.Sub, Credential.Info, gateway, ConnectedAt, Topics.Topics, Watching);

    /// <summary>A session admitted before its upgrade: what the grain is told when it asks to be let in.</summary>
    public sealed record Pending(string Id, string Customer, SocketCredential Credential)
    {
        public SessionInfo Describe(string gateway) => new(Id, Credential.Sub, Credential.Info, gateway, DateTimeOffset.UtcNow, [], []);
    }

    /// <summary>The socket, for the request that owns it to dispose.</summary>
    public WebSocket Socket => _socket;

    /// <summary>True when the client chose <c>fabric.v1.batch</c>: a drained batch of frames goes out as one message, a JSON array.</summary>
    public bool Batched { get; init; }

    /// <summary>The stream under the socket when its writes are coalesced.</summary>
    public CoalescingStream? Coalescer => _coalescer;

    /// <summary>Topics this socket receives; swapped whole, read without a lock by the dispatch path.</summary>
    public TopicFilter Topics { get; set; } = TopicFilter.None;

    // The next three are owned by the customer's feed and only touched under its lock.

    /// <summary>True once the first <c>subscribe</c> has started positioning this socket.</summary>
    public bool Started { get; set; }

    /// <summary>True once the socket has caught up and takes events straight from the feed.</summary>
    public bool Live { get; set; }

    /// <summary>The highest seq this socket has been offered (sent or filtered out).</summary>
    public long Cursor { get; set; }

    public bool IsClosing => Volatile.Read(ref _close) is not null;

    /// <summary>True once the request that held the socket returned.</summary>
    public bool Ended { get; set; }

    /// <summary>
    /// Queues a reply. Replies are never dropped; <paramref name="positional"/> ones (<c>subscribed</c>,
    /// <c>unsubscribed</c>) say where the socket stands, so events queued before them are never dropped either. A client
    /// that lets replies pile up past twice the queue limit (a ping flood it does not read) is shed.
    /// </summary>
    public void Enqueue(ReadOnlyMemory<byte> frame, bool positional = false)
    {
        if (Interlocked.Read(ref _queuedBytes) + frame.Length > 2 * _options.SendQueueMaxBytes)
        {
            Shed();
            return;
        }

        Add(new Outgoing(frame, positional ? Positional : 0));
    }

    // The seq of a positional reply in the queue: not an event, but a fence the drop stops at.
    private const long Positional = -1;

    /// <summary>
    /// Queues an event frame, unless that would overflow the send queue (behind other frames: one event larger than the
    /// whole queue must still be deliverable); false then, and nothing is queued.
    /// </summary>
    /// <param name="frame">The serialized event frame.</param>
    /// <param name="seq">The event's seq.</param>
    /// <param name="ring">False when the caller queues more and calls <see cref="Ring"/> once done: the send loop then
    /// wakes to the whole lot and sends it as one batch instead of waking at the first frame.</param>
    /// <param name="acceptedAt">When the grain accepted a live event (Unix ms), for the end-to-end latency; 0 for history.</param>
    /// <param name="write">The socket-write span to stop once the frame is written (debug tracing only).</param>
    public bool TryEnqueueEvent(ReadOnlyMemory<byte> frame, long seq, bool ring = true, long acceptedAt = 0, Activity? write = null)
    {
        var queued = Interlocked.Read(ref _queuedBytes);
        if (queued > 0 && queued + frame.Length > _options.SendQueueMaxBytes)
        {
            return false;
        }

        Add(new Outgoing(frame, seq, acceptedAt, write), ring);
        return true;
    }

    /// <summary>Wakes the send loop for frames queued without ringing.</summary>
    public void Ring() => _doorbell.Writer.TryWrite(true);

    /// <summary>Owned by the feed, under its lock: frames were queued for this socket and it has not been rung yet.</summary>
    public bool RingDeferred { get; set; }

    /// <summary>
    /// Drops the queued event frames behind the last positional reply (replies stay, in order) and returns the seq of the
    /// first one dropped, or null when none could be. Event frames queue in seq order, so every event before the first
    /// dropped one has been offered to the socket: the feed catches it up from just before it.
    /// </summary>
    public long? DropQueuedEvents()
    {
        lock (_queue)
        {
            var items = _queue.ToArray();
            var fence = Array.FindLastIndex(items, o => o.Seq == Positional);
            long? firstDropped = null;
            long dropped = 0;
            _queue.Clear();
            for (var i = 0; i < items.Length; i++)
            {
                if (i > fence && items[i].Seq > 0)
                {
                    firstDropped ??= items[i].Seq;
                    dropped += items[i].Frame.Length;
                    items[i].Write?.SetTag(GatewayTelemetry.OutcomeTag, "dropped-for-catch-up").Dispose();
                }
                else
                {
                    _queue.Enqueue(items[i]);
                }
            }

            _queue.TrimExcess();
            Interlocked.Add(ref _queuedBytes, -dropped);
            return firstDropped;
        }
    }

    private void Add(Outgoing outgoing, bool ring = true)
    {
        if (IsClosing)
        {
            return;
        }

        lock (_queue)
        {
            _queue.Enqueue(outgoing);
            if (Interlocked.Add(ref _queuedBytes, outgoing.Frame.Length) == outgoing.Frame.Length)
            {
                // The wait for the client starts now, not at its last read before a quiet spell.
                Interlocked.Exchange(ref _lastProgress, Environment.TickCount64);
            }
        }

        if (ring)
        {
            _doorbell.Writer.TryWrite(true);
        }
    }

    /// <summary>
    /// True when frames have waited for longer than <see cref="SocketOptions.LagGracePeriod"/> without the client taking
    /// any: it stopped reading.
    /// </summary>
    public bool Stalled =>
        Interlocked.Read(ref _queuedBytes) > 0 && Environment.TickCount64 - Interlocked.Read(ref _lastProgress) > (long)_options.LagGracePeriod.TotalMilliseconds;

    /// <summary>Closes the socket as a slow consumer (4100): it made no progress for the grace period.</summary>
    public void Shed()
    {
        if (IsClosing)
        {
            return;
        }

        GatewayTelemetry.SlowConsumers.Add(1);
        Log.SlowConsumer(_logger, Id, Customer);
        RequestClose(CloseCodes.SlowConsumer, "slow consumer");
    }

    /// <summary>Bytes queued and not yet sent.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>
    /// Waits while more than half the send queue is full, or while a frame of <paramref name="next"/> bytes would not
    /// fit, so a replay or a catch-up cannot overflow it on its own. A client that takes nothing for the grace period is
    /// shed (4100) instead of waited on forever.
    /// </summary>
    public async Task WaitForSendRoomAsync(int next = 0)
    {
        while (!IsClosing && !HasRoom(next))
        {
            if (Stalled)
            {
                Shed();
                return;
            }

            Task room;
            lock (_queue)
            {
                if (HasRoom(next))
                {
                    continue;
                }

                _roomWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                room = _roomWaiter.Task;
            }

            // Woken by the send loop as soon as it sends something; the timeout only serves the stall check.
            await room.WaitAsync(RoomCheckInterval).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private static readonly TimeSpan RoomCheckInterval = TimeSpan.FromMilliseconds(250);

    private bool HasRoom(int next) =>
        Interlocked.Read(ref _queuedBytes) is var queued
        && (queued == 0 || (queued <= _options.SendQueueMaxBytes / 2 && queued + next <= _options.SendQueueMaxBytes));

    /// <summary>Wakes a replay waiting for room: the send loop took something, or the socket is closing.</summary>
    private void SignalRoom()
    {
        // Always under the lock: an unlocked look could miss a waiter registering just after the bytes went out.
        TaskCompletionSource? waiter;
        lock (_queue)
        {
            waiter = _roomWaiter;
            _roomWaiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>
    /// Asks the send loop to drop what is queued and close with <paramref name="status"/>; the first request wins.
    /// If the client does not answer with its own close in time, the socket is aborted.
    /// </summary>
    public void RequestClose(WebSocketCloseStatus status, string reason) => RequestClose(new CloseRequest(status, reason, Flush: false));

    /// <summary>
    /// Like <see cref="RequestClose(WebSocketCloseStatus, string)"/>, but what is already queued (the <c>error</c> that
    /// explains the close) is sent first. Nothing queued after this request is sent.
    /// </summary>
    public void RequestCloseAfterQueued(WebSocketCloseStatus status, string reason) => RequestClose(new CloseRequest(status, reason, Flush: true));

    private void RequestClose(CloseRequest request)
    {
        lock (_queue)
        {
            if (_close is not null)
            {
                return;
            }

            _close = request;
        }

        _doorbell.Writer.TryWrite(true);
        _doorbell.Writer.TryComplete();
        SignalRoom();
        try
        {
            _receiveAbort.CancelAfter(_options.CloseTimeout);
        }
        catch (ObjectDisposedException)
        {
            // The session already ended.
        }
    }

    /// <summary>True once the send loop must send nothing more (a close that does not flush the queue).</summary>
    private bool StopSending => Volatile.Read(ref _close) is { Flush: false };

    public void Dispose() => _receiveAbort.Dispose();

    /// <summary>The close code Fabric sent or is sending, null while the socket is open.</summary>
    public int? CloseCode => Volatile.Read(ref _close) is { } close ? (int)close.Status : null;

    private sealed record CloseRequest(WebSocketCloseStatus Status, string Reason, bool Flush);

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Information, "Socket {Session} of customer {Customer} closed as a slow consumer: it took nothing for the lag grace period")]
        public static partial void SlowConsumer(ILogger logger, string session, string customer);

        [LoggerMessage(301, LogLevel.Information, "Socket {Session} of customer {Customer} closed after too many invalid frames")]
        public static partial void TooManyInvalidFrames(ILogger logger, string session, string customer);

    }
}
