using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Fabric.Gateway.Api;
using Fabric.Gateway.Events;

namespace Fabric.Gateway.Sockets;

internal sealed partial class SocketSession
{
    private int _invalidFrames;
    private long _invalidWindowStart;

    /// <summary>Reads frames until the client closes, the socket fails, or the server closes it.</summary>
    public async Task RunReceiveLoopAsync(CustomerFeed feed, CancellationToken requestAborted)
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
                        Invalid("binary_not_supported", "Frames must be JSON text.");
                        break;
                    default:
                        await HandleFrameAsync(feed, buffer.AsMemory(0, count));
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

    private async Task HandleFrameAsync(CustomerFeed feed, ReadOnlyMemory<byte> text)
    {
        ClientFrame? frame;
        try
        {
            frame = JsonSerializer.Deserialize(text.Span, ApiJsonContext.Default.ClientFrame);
        }
        catch (JsonException)
        {
            Invalid("invalid_json", "The frame is not a JSON object of the documented shape.");
            return;
        }

        switch (frame?.Op)
        {
            case "ping":
                Send(new PongFrame(), ApiJsonContext.Default.PongFrame);
                break;
            case "subscribe":
                if (ValidateTopics(frame.Topics, adding: true) && ValidateSince(frame.Since, frame.Epoch))
                {
                    try
                    {
                        // A resume replays at the client's pace and holds this loop (no read, so a pong waits unread):
                        // the keep-alive wheel leaves the socket alone meanwhile.
                        _coalescer?.BeginHandling();
                        await feed.SubscribeAsync(this, frame.Topics!, frame.Since, frame.Epoch);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Whatever failed, the socket cannot be positioned: say so with a close code, not a dropped connection.
                        Log.SubscribeFailed(_logger, ex, Id, Customer);
                        RequestClose(CloseCodes.Unavailable, "cluster unavailable");
                    }
                    finally
                    {
                        _coalescer?.EndHandling();
                    }
                }

                break;
            case "unsubscribe":
                if (ValidateTopics(frame.Topics, adding: false))
                {
                    feed.Unsubscribe(this, frame.Topics!);
                }

                break;
            case null:
                Invalid("missing_op", "Every frame needs an \"op\".");
                break;
            default:
                Invalid("unknown_op", "Known ops: subscribe, unsubscribe, ping.");
                break;
        }
    }

    private bool ValidateTopics(string[]? topics, bool adding)
    {
        if (topics is not { Length: > 0 } || !topics.All(TopicFilter.IsValidTopic))
        {
            Invalid("invalid_topics", "\"topics\" must be a non-empty array of event types; '*' is allowed only at the end.");
            return false;
        }

        if (adding && Topics.With(topics).Count > _options.MaxTopics)
        {
            Invalid("too_many_topics", $"A socket may hold at most {_options.MaxTopics} topics.");
            return false;
        }

        return true;
    }

    private bool ValidateSince(long? since, string? epoch)
    {
        if (since is < 0 or > Names.MaxSeq)
        {
            Invalid("invalid_since", $"\"since\" must be a seq from 0 to {Names.MaxSeq}.");
            return false;
        }

        if (epoch is not null && (epoch.Length is 0 or > Names.MaxIdLength || since is null))
        {
            Invalid("invalid_epoch", "\"epoch\" must be the epoch of a \"subscribed\" frame, given with \"since\".");
            return false;
        }

        return true;
    }

    /// <summary>Answers an invalid frame with an error; too many in a minute closes the socket with 4000.</summary>
    private void Invalid(string code, string message)
    {
        Send(new ErrorFrame(code, message), ApiJsonContext.Default.ErrorFrame);
        var now = Environment.TickCount64;
        if (now - _invalidWindowStart > 60_000)
        {
            _invalidWindowStart = now;
            _invalidFrames = 0;
        }

        if (++_invalidFrames > _options.MaxInvalidFramesPerMinute)
        {
            Log.TooManyInvalidFrames(_logger, Id, Customer);
            RequestClose(CloseCodes.InvalidFrames, "too many invalid frames");
        }
    }
}
