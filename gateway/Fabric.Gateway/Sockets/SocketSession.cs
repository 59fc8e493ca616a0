using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// One client socket: a receive loop that handles frames in order, and a send loop that is the only writer to the
/// socket. Everything the server sends goes through one queue, so frames leave in the order they were queued.
/// </summary>
internal sealed partial class SocketSession : IDisposable
{
    private readonly WebSocket _socket;
    private readonly SocketOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<ReadOnlyMemory<byte>> _outbound =
        Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _receiveAbort = new();
    private long _queuedBytes;
    private CloseRequest? _close;

    public SocketSession(string customer, WebSocket socket, SocketOptions options, ILogger logger)
    {
        Customer = customer;
        _socket = socket;
        _options = options;
        _logger = logger;
    }

    public string Id { get; } = "ses_" + Guid.CreateVersion7().ToString("N");

    public string Customer { get; }

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

    /// <summary>Queues a frame; overflowing the send queue closes the socket as a slow consumer.</summary>
    public void Enqueue(ReadOnlyMemory<byte> frame)
    {
        if (IsClosing)
        {
            return;
        }

        // Overflow only counts behind other frames: one event larger than the whole queue must still be deliverable.
        var queued = Interlocked.Add(ref _queuedBytes, frame.Length);
        if (queued > _options.SendQueueMaxBytes && queued != frame.Length)
        {
            GatewayTelemetry.SlowConsumers.Add(1);
            Log.SlowConsumer(_logger, Id, Customer);
            RequestClose(CloseCodes.SlowConsumer, "slow consumer");
            return;
        }

        _outbound.Writer.TryWrite(frame);
    }

    /// <summary>Bytes queued and not yet sent.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Waits while more than half the send queue is full, so a replay cannot overflow it on its own.</summary>
    public async Task WaitForSendRoomAsync()
    {
        while (!IsClosing && Interlocked.Read(ref _queuedBytes) > _options.SendQueueMaxBytes / 2)
        {
            await Task.Delay(10);
        }
    }

    public void Send<T>(T frame, JsonTypeInfo<T> typeInfo) => Enqueue(JsonSerializer.SerializeToUtf8Bytes(frame, typeInfo));

    /// <summary>
    /// Asks the send loop to drop what is queued and close with <paramref name="status"/>; the first request wins.
    /// If the client does not answer with its own close in time, the socket is aborted.
    /// </summary>
    public void RequestClose(WebSocketCloseStatus status, string reason)
    {
        lock (_outbound)
        {
            if (_close is not null)
            {
                return;
            }

            _close = new CloseRequest(status, reason);
        }

        _outbound.Writer.TryComplete();
        try
        {
            _receiveAbort.CancelAfter(_options.CloseTimeout);
        }
        catch (ObjectDisposedException)
        {
            // The session already ended.
        }
    }

    public void Dispose() => _receiveAbort.Dispose();

    private sealed record CloseRequest(WebSocketCloseStatus Status, string Reason);

    public async Task RunSendLoopAsync()
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync())
            {
                while (!IsClosing && reader.TryRead(out var frame))
                {
                    await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    Interlocked.Add(ref _queuedBytes, -frame.Length);
                }

                if (IsClosing)
                {
                    break;
                }
            }

            if (_close is { } close && _socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(_options.CloseTimeout);
                await _socket.CloseOutputAsync(close.Status, close.Reason, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away mid-send; stop waiting for frames from it too.
            RequestClose(CloseCodes.Gone, "gone");
            _receiveAbort.Cancel();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Information, "Socket {Session} of customer {Customer} closed as a slow consumer")]
        public static partial void SlowConsumer(ILogger logger, string session, string customer);

        [LoggerMessage(301, LogLevel.Information, "Socket {Session} of customer {Customer} closed after too many invalid frames")]
        public static partial void TooManyInvalidFrames(ILogger logger, string session, string customer);

        [LoggerMessage(302, LogLevel.Warning, "Socket {Session} of customer {Customer} could not be positioned")]
        public static partial void SubscribeFailed(ILogger logger, Exception exception, string session, string customer);
    }
}
