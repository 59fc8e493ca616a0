using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// A socket's send loop: the only writer to the socket. It drains the queue a batch at a time (one coalesced write
/// each, when the stream under the socket can gather; one message, a JSON array, for <c>fabric.v1.batch</c>) and ends
/// with the close frame once a close was requested.
/// </summary>
internal sealed class SocketSender(SocketSession session, SendQueue queue, bool batched, SocketOptions options)
{
    private readonly WebSocket _socket = session.Socket;
    private readonly CoalescingStream? _coalescer = session.Coalescer;

    /// <summary>True once nothing more may be sent (a close that does not flush the queue).</summary>
    private bool StopSending => session.Close is { Flush: false };

    public async Task RunAsync()
    {
        var batch = new List<SendQueue.Outgoing>();
        try
        {
            while (await queue.WaitForRingAsync())
            {
                while (!StopSending)
                {
                    // At most about one coalesced write per batch, so progress is seen batch by batch.
                    queue.TakeBatch(batch, CoalescingStream.FlushAt);
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

                if (session.IsClosing)
                {
                    break;
                }
            }

            if (session.Close is { } close && _socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(options.CloseTimeout);
                // No keep-alive ping may follow the close frame.
                _coalescer?.MarkCloseSent();
                await _socket.CloseOutputAsync(close.Status, close.Reason, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            // The peer went away mid-send; stop waiting for frames from it too.
            session.RequestClose(CloseCodes.Gone, "gone");
            session.AbortReceive();
        }
    }

    /// <summary>
    /// Writes one drained batch: framed one by one by the WebSocket, gathered by the coalescing stream into one write
    /// and one flush (a few, for a large batch).
    /// </summary>
    private async Task SendBatchAsync(List<SendQueue.Outgoing> batch)
    {
        if (batched && batch.Count > 1)
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
                    queue.Written(o.Frame.Length);
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
            queue.Written(sent);
        }
    }

    /// <summary>
    /// Writes one drained batch as one message, <c>[frame,frame,…]</c> (<c>fabric.v1.batch</c>): one frame header, one
    /// write, and one message for the client to take, whatever the number of events.
    /// </summary>
    private async Task SendAsArrayAsync(List<SendQueue.Outgoing> batch)
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
            queue.Written(frames);
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

    /// <summary>One measure per write, of its oldest live frame (0: none): bounded work per write whatever the fan-out.</summary>
    private static void MeasureEndToEnd(long oldestAcceptedAt)
    {
        if (oldestAcceptedAt > 0)
        {
            GatewayTelemetry.EndToEnd.Record(Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - oldestAcceptedAt));
        }
    }

    /// <summary>Stops the batch's socket-write spans, now that their bytes are out (or the socket failed under them).</summary>
    private static void StopWrites(List<SendQueue.Outgoing> batch)
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
