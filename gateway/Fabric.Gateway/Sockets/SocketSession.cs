using System.Diagnostics;
using System.Net.WebSockets;
using Fabric.Contracts;
using Fabric.Gateway.Sockets.Auth;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// One client socket as the rest of the gateway sees it: who it is, a queue everything the server sends goes through
/// (so frames leave in the order they were queued), and how it is closed. Its <see cref="SocketSender"/> is the only
/// writer to the socket; the <see cref="SocketHost"/> runs its receive loop; its feed keeps where it stands in the log
/// (<see cref="FeedMember"/>).
/// </summary>
internal sealed partial class SocketSession : IDisposable
{
    private static readonly TimeSpan RoomCheckInterval = TimeSpan.FromMilliseconds(250);

    private readonly SocketOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly SendQueue _queue;
    private readonly SocketSender _sender;
    private readonly CancellationTokenSource _receiveAbort = new();
    private CloseRequest? _close;

    // coalescer: the stream under the socket, when it can gather a batch's writes into one (null: one write per frame).
    public SocketSession(
        string customer,
        string id,
        SocketCredential credential,
        WebSocket socket,
        SocketOptions options,
        ILogger logger,
        CoalescingStream? coalescer = null,
        bool batched = false,
        TimeProvider? clock = null)
    {
        Customer = customer;
        Id = id;
        Credential = credential;
        Socket = socket;
        Coalescer = coalescer;
        _options = options;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        _queue = new SendQueue(_clock);
        Inbound = new InboundLimits(options, _clock);
        ConnectedAt = _clock.GetUtcNow();
        _sender = new SocketSender(this, _queue, batched, options);
    }

    /// <summary>A new session id: <c>ses_</c> and a version-7 GUID, so ids sort by connection time.</summary>
    public static string NewId() => "ses_" + Guid.CreateVersion7().ToString("N");

    public string Id { get; }

    public string Customer { get; }

    /// <summary>Who the socket authenticated as and what it may do; replaced by a <c>refresh</c>.</summary>
    public SocketCredential Credential { get; set; }

    public DateTimeOffset ConnectedAt { get; }

    /// <summary>A session admitted before its upgrade: what the grain is told when it asks to be let in.</summary>
    public sealed record Pending(string Id, string Customer, SocketCredential Credential)
    {
        public SessionInfo Describe(string gateway) => new(Id, Credential.Sub, Credential.Info, gateway, DateTimeOffset.UtcNow, [], []);
    }

    /// <summary>The socket, for the request that owns it to dispose.</summary>
    public WebSocket Socket { get; }

    /// <summary>The stream under the socket when its writes are coalesced.</summary>
    public CoalescingStream? Coalescer { get; }

    /// <summary>What the client may send: its frame rate and invalid frames.</summary>
    public InboundLimits Inbound { get; }

    public bool IsClosing => Volatile.Read(ref _close) is not null;

    /// <summary>True once the request that held the socket returned.</summary>
    public bool Ended { get; set; }

    /// <summary>Bytes queued and not yet sent.</summary>
    public long QueuedBytes => _queue.Bytes;

    /// <summary>Sends what is queued until the socket closes; the only writer to the socket.</summary>
    public Task RunSendLoopAsync() => _sender.RunAsync();

    /// <summary>
    /// Queues a reply. Replies are never dropped; <paramref name="positional"/> ones (<c>subscribed</c>,
    /// <c>unsubscribed</c>) say where the socket stands, so events queued before them are never dropped either. A client
    /// that lets replies pile up past twice the queue limit (a ping flood it does not read) is shed.
    /// </summary>
    public void Enqueue(ReadOnlyMemory<byte> frame, bool positional = false)
    {
        if (_queue.Bytes + frame.Length > 2 * _options.SendQueueMaxBytes)
        {
            Shed();
            return;
        }

        if (!IsClosing)
        {
            _queue.Add(new SendQueue.Outgoing(frame, positional ? SendQueue.Positional : 0));
        }
    }

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
        var queued = _queue.Bytes;
        if (queued > 0 && queued + frame.Length > _options.SendQueueMaxBytes)
        {
            return false;
        }

        if (!IsClosing)
        {
            _queue.Add(new SendQueue.Outgoing(frame, seq, acceptedAt, write), ring);
        }

        return true;
    }

    /// <summary>Wakes the send loop for frames queued without ringing.</summary>
    public void Ring() => _queue.Ring();

    /// <summary>
    /// Drops the queued event frames behind the last positional reply and returns the seq of the first one dropped, or
    /// null when none could be: the feed catches the socket up from just before it.
    /// </summary>
    public long? DropQueuedEvents() => _queue.DropEvents();

    /// <summary>
    /// True when frames have waited for longer than <see cref="SocketOptions.LagGracePeriod"/> without the client taking
    /// any: it stopped reading.
    /// </summary>
    public bool Stalled => _queue.Waiting > _options.LagGracePeriod;

    /// <summary>
    /// Waits while more than half the send queue is full, or while a frame of <paramref name="next"/> bytes would not
    /// fit, so a replay or a catch-up cannot overflow it on its own. A client that takes nothing for the grace period is
    /// shed (4100) instead of waited on forever.
    /// </summary>
    public async Task WaitForSendRoomAsync(int next = 0)
    {
        while (!IsClosing && _queue.RoomOrWait(_options.SendQueueMaxBytes / 2, _options.SendQueueMaxBytes, next) is { } room)
        {
            if (Stalled)
            {
                Shed();
                return;
            }

            // Woken by the send loop as soon as it sends something; the timeout only serves the stall check.
            await room.WaitAsync(RoomCheckInterval, _clock).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

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

    /// <summary>Answers an invalid frame with an error; too many in a minute closes the socket with 4000.</summary>
    public void Invalid(string code, string message, string? @ref = null)
    {
        SocketReplies.Error(this, code, message, @ref);
        if (Inbound.CountInvalid())
        {
            Log.TooManyInvalidFrames(_logger, Id, Customer);
            RequestCloseAfterQueued(CloseCodes.InvalidFrames, "too many invalid frames");
        }
    }

    /// <summary>While a frame's work holds the receive loop (a long resume issues no read), the keep-alive wheel leaves the socket alone.</summary>
    public void BeginHandling() => Coalescer?.BeginHandling();

    public void EndHandling() => Coalescer?.EndHandling();

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
        if (Interlocked.CompareExchange(ref _close, request, null) is not null)
        {
            return;
        }

        _queue.Close();
        try
        {
            _receiveAbort.CancelAfter(_options.CloseTimeout);
        }
        catch (ObjectDisposedException)
        {
            // The session already ended.
        }
    }

    /// <summary>The close Fabric sent or is sending, null while the socket is open.</summary>
    internal CloseRequest? Close => Volatile.Read(ref _close);

    /// <summary>The close code Fabric sent or is sending, null while the socket is open.</summary>
    public int? CloseCode => Close is { } close ? (int)close.Status : null;

    /// <summary>Cancelled when the receive loop must stop reading: the socket failed, or a close went unanswered.</summary>
    public CancellationToken ReceiveAborted => _receiveAbort.Token;

    /// <summary>The send loop lost the peer: stop reading from it too.</summary>
    internal void AbortReceive() => _receiveAbort.Cancel();

    public void Dispose() => _receiveAbort.Dispose();

    internal sealed record CloseRequest(WebSocketCloseStatus Status, string Reason, bool Flush);

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Information, "Socket {Session} of customer {Customer} closed as a slow consumer: it took nothing for the lag grace period")]
        public static partial void SlowConsumer(ILogger logger, string session, string customer);

        [LoggerMessage(301, LogLevel.Information, "Socket {Session} of customer {Customer} closed after too many invalid frames")]
        public static partial void TooManyInvalidFrames(ILogger logger, string session, string customer);
    }
}
