using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// The send loop: the only writer to the socket. It drains the queue a batch at a time (one coalesced write each, when
/// the stream under the socket can gather) and ends with the close frame once a close was requested.
/// </summary>
internal sealed partial class SocketSession
{
    /// <summary>
    /// A queued frame; <c>Seq</c> is the event's, 0 for replies, <see cref="Positional"/> for positional replies;
    /// <c>AcceptedAt</c> the grain's acceptance of a live event (Unix ms, else 0); <c>Write</c> its debug span, if any.
    /// </summary>
    private readonly record struct Outgoing(ReadOnlyMemory<byte> Frame, long Seq, long AcceptedAt = 0, Activity? Write = null);

    public async Task RunSendLoopAsync()
    {
        var reader = _doorbell.Reader;
        var batch = new List<Outgoing>();
        try
        {
            while (await reader.WaitToReadAsync())
            {
                reader.TryRead(out _);
                while (!StopSending)
                {
                    lock (_queue)
                    {
                        // At most about one coalesced write per batch, so progress is seen batch by batch.
                        long bytes = 0;
                        while (bytes < CoalescingStream.FlushAt && _queue.TryDequeue(out var o))
                        {
                            batch.Add(o);
                            bytes += o.Frame.Length;
                        }

                        if (_queue.Count == 0 && batch.Count > 64)
                        {
                            _queue.TrimExcess();
                        }
                    }

                    if (batch.Count == 0)
                    {
                        break;
                    }

                    await SendBatchAsync(batch);
                    // An idle socket holds no frames, nor a burst's worth of capacity.
                    batch.Clear();
                    if (batch.Capacity > 64)
                    {
                        batch.Capacity = 4;
                    }
                }

                if (IsClosing)
                {
                    break;
                }
            }

            if (_close is { } close && _socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(_options.CloseTimeout);
                // No keep-alive ping may follow the close frame.
                _coalescer?.MarkCloseSent();
                await _socket.CloseOutputAsync(close.Status, close.Reason, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            // The peer went away mid-send; stop waiting for frames from it too.
            RequestClose(CloseCodes.Gone, "gone");
            _receiveAbort.Cancel();
        }
    }

    /// <summary>
    /// Writes one drained batch: framed one by one by the WebSocket, gathered by the coalescing stream into one write
    /// and one flush (a few, for a large batch).
    /// </summary>
    private async Task SendBatchAsync(List<Outgoing> batch)
    {
        if (Batched && batch.Count > 1)
        {
            await SendAsArrayAsync(batch);
            return;
        }

        // A single frame has nothing to share a write with: it goes straight through, as without the coalescer.
        var coalescer = batch.Count > 1 ? _coalescer : null;
        coalescer?.BeginBatch();
        long sent = 0;
        long oldest = 0;
        // Decided before sending: a send that throws still stops the batch's spans.
        var traced = batch.Exists(o => o.Write is not null);
        try
        {
            foreach (var o in batch)
            {
                if (StopSending)
                {
                    break;
                }

                await _socket.SendAsync(o.Frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                sent += o.Frame.Length;
                if (o.AcceptedAt > 0 && oldest == 0)
                {
                    oldest = o.AcceptedAt;
                }

                if (coalescer is null)
                {
                    Written(o.Frame.Length);
                    sent = 0;
                }
            }
        }
        finally
        {
            if (coalescer is not null)
            {
                await coalescer.EndBatchAsync(CancellationToken.None);
            }

            if (traced)
            {
                StopWrites(batch);
            }
        }

        MeasureEndToEnd(oldest);
        if (sent > 0)
        {
            Written(sent);
        }
    }

    /// <summary>
    /// Writes one drained batch as one message, <c>[frame,frame,…]</c> (<c>fabric.v1.batch</c>): one frame header, one
    /// write, and one message for the client to take, whatever the number of events.
    /// </summary>
    private async Task SendAsArrayAsync(List<Outgoing> batch)
    {
        long frames = 0;
        foreach (var o in batch)
        {
            frames += o.Frame.Length;
        }

        // The frames, a comma or bracket before each, and the closing bracket.
        var buffer = ArrayPool<byte>.Shared.Rent(checked((int)frames + batch.Count + 1));
        var traced = batch.Exists(o => o.Write is not null);
        try
        {
            var at = 0;
            long oldest = 0;
            foreach (var o in batch)
            {
                buffer[at] = at == 0 ? (byte)'[' : (byte)',';
                o.Frame.Span.CopyTo(buffer.AsSpan(at + 1));
                at += 1 + o.Frame.Length;
                if (o.AcceptedAt > 0 && oldest == 0)
                {
                    oldest = o.AcceptedAt;
                }
            }

            buffer[at++] = (byte)']';
            if (StopSending)
            {
                return;
            }

            await _socket.SendAsync(buffer.AsMemory(0, at), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            MeasureEndToEnd(oldest);
            Written(frames);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (traced)
            {
                StopWrites(batch);
            }
        }
    }

    /// <summary>Frames of <paramref name="bytes"/> left the queue for the socket: progress for the lag check, room for a waiting replay.</summary>
    private void Written(long bytes)
    {
        Interlocked.Add(ref _queuedBytes, -bytes);
        Interlocked.Exchange(ref _lastProgress, Environment.TickCount64);
        SignalRoom();
    }

    /// <summary>One measure per write, of its oldest live frame (0: none): bounded work per write whatever the fan-out.</summary>
    private static void MeasureEndToEnd(long oldestAcceptedAt)
    {
        if (oldestAcceptedAt > 0)
        {
            GatewayTelemetry.EndToEnd.Record(Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - oldestAcceptedAt));
        }
    }

    /// <summary>Stops the batch's socket-write spans, now that their bytes are out (or the socket failed under them).</summary>
    private static void StopWrites(List<Outgoing> batch)
    {
        // Stopping a span makes the one current when it started current again; this loop's flow keeps its own.
        var current = Activity.Current;
        foreach (var o in batch)
        {
            o.Write?.Dispose();
        }

        Activity.Current = current;
    }
}
