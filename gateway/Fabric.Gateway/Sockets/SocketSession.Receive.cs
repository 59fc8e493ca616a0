using System.Buffers;
using System.Net.WebSockets;

namespace Fabric.Gateway.Sockets;

internal sealed partial class SocketSession
{
    private int _invalidFrames;
    private long _invalidWindowStart;

    /// <summary>Reads frames until the client closes, the socket fails, or the server closes it.</summary>
    public async Task RunReceiveLoopAsync(SocketCommands commands, CustomerFeed feed, CancellationToken requestAborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, _receiveAbort.Token);
        byte[]? buffer = null;
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                // An idle socket waits with a zero-byte read and holds no buffer (4 KiB per idle socket otherwise,
                // two thirds of the per-socket budget); the buffer is rented once a frame has started to arrive.
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }

                var first = await _socket.ReceiveAsync(Memory<byte>.Empty, linked.Token);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    RequestClose(CloseCodes.Normal, "bye");
                    return;
                }

                buffer = ArrayPool<byte>.Shared.Rent(4096);
                var count = 0;
                var result = first;
                while (!result.EndOfMessage)
                {
                    if (count == buffer.Length)
                    {
                        if (buffer.Length >= _options.MaxMessageBytes)
                        {
                            RequestClose(CloseCodes.MessageTooBig, "message too big");
                            return;
                        }

                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxMessageBytes));
                        buffer.AsSpan(0, count).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    var limit = Math.Min(buffer.Length, _options.MaxMessageBytes);
                    result = await _socket.ReceiveAsync(buffer.AsMemory(count, limit - count), linked.Token);
                    count += result.Count;
                    if (!result.EndOfMessage && count >= _options.MaxMessageBytes)
                    {
                        RequestClose(CloseCodes.MessageTooBig, "message too big");
                        return;
                    }
                }

                switch (result.MessageType)
                {
                    case WebSocketMessageType.Close:
                        RequestClose(CloseCodes.Normal, "bye");
                        return;
                    case WebSocketMessageType.Binary:
                        if (commands.Admit(this))
                        {
                            Invalid("binary_not_supported", "Frames must be JSON text.");
                        }

                        break;
                    default:
                        await commands.HandleAsync(this, feed, buffer.AsMemory(0, count));
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // Aborted by the peer, by the host, or after a close the client never answered.
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Takes one frame from this socket's inbound token bucket (<see cref="SocketOptions.MessagesPerSecond"/>, burst
    /// <see cref="SocketOptions.MessageBurst"/>); false when it is empty. Two fields per socket rather than a limiter
    /// object (a timer each) per socket: only the receive loop touches them.
    /// </summary>
    public bool TakeInboundToken()
    {
        var now = Environment.TickCount64;
        _inboundTokens = Math.Min(_options.MessageBurst, _inboundTokens + (now - _inboundAt) * _options.MessagesPerSecond / 1000.0);
        _inboundAt = now;
        if (_inboundTokens < 1)
        {
            return false;
        }

        _inboundTokens--;
        return true;
    }

    private double _inboundTokens;
    private long _inboundAt = Environment.TickCount64;

    /// <summary>While a frame's work holds the receive loop (a long resume issues no read), the keep-alive wheel leaves the socket alone.</summary>
    public void BeginHandling() => _coalescer?.BeginHandling();

    public void EndHandling() => _coalescer?.EndHandling();

    /// <summary>Answers an invalid frame with an error; too many in a minute closes the socket with 4000.</summary>
    public void Invalid(string code, string message, string? @ref = null)
    {
        SocketReplies.Error(this, code, message, @ref);
        var now = Environment.TickCount64;
        if (now - _invalidWindowStart > 60_000)
        {
            _invalidWindowStart = now;
            _invalidFrames = 0;
        }

        if (++_invalidFrames > _options.MaxInvalidFramesPerMinute)
        {
            Log.TooManyInvalidFrames(_logger, Id, Customer);
            RequestCloseAfterQueued(CloseCodes.InvalidFrames, "too many invalid frames");
        }
    }
}
