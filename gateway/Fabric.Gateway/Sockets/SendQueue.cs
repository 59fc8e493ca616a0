using System.Diagnostics;
using System.Threading.Channels;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// What one socket has to send, in order: a queue of frames, the bytes it holds, when the client last took any, and a
/// doorbell that wakes the send loop. Event frames carry their seq, so that on overflow the untaken ones can be dropped
/// and the socket caught up from the log instead. Thread-safe; no socket in sight, so it is tested on its own.
/// </summary>
internal sealed class SendQueue(TimeProvider clock)
{
    /// <summary>The seq of a positional reply in the queue: not an event, but a fence a drop stops at.</summary>
    public const long Positional = -1;

    private readonly Queue<Outgoing> _queue = new();

    // Rung when something is queued; the send loop drains everything queued at each ring.
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _bytes;
    private long _lastProgress = clock.GetTimestamp();

    // A replay or catch-up waiting for room (at most one per socket: the feed positions it once at a time).
    private TaskCompletionSource? _roomWaiter;

    /// <summary>
    /// A queued frame; <c>Seq</c> is the event's, 0 for replies, <see cref="Positional"/> for positional replies;
    /// <c>AcceptedAt</c> the grain's acceptance of a live event (Unix ms, else 0); <c>Write</c> its debug span, if any.
    /// </summary>
    public readonly record struct Outgoing(ReadOnlyMemory<byte> Frame, long Seq, long AcceptedAt = 0, Activity? Write = null);

    /// <summary>Bytes queued and not yet sent.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>How long frames have waited without the client taking any; zero when nothing is queued.</summary>
    public TimeSpan Waiting => Bytes > 0 ? clock.GetElapsedTime(Interlocked.Read(ref _lastProgress)) : TimeSpan.Zero;

    public void Add(Outgoing outgoing, bool ring = true)
    {
        lock (_queue)
        {
            _queue.Enqueue(outgoing);
            if (Interlocked.Add(ref _bytes, outgoing.Frame.Length) == outgoing.Frame.Length)
            {
                // The wait for the client starts now, not at its last read before a quiet spell.
                Interlocked.Exchange(ref _lastProgress, clock.GetTimestamp());
            }
        }

        if (ring)
        {
            Ring();
        }
    }

    /// <summary>Wakes the send loop for frames queued without ringing.</summary>
    public void Ring() => _doorbell.Writer.TryWrite(true);

    /// <summary>Rings one last time and lets the send loop's wait end: the socket is closing.</summary>
    public void Close()
    {
        _doorbell.Writer.TryWrite(true);
        _doorbell.Writer.TryComplete();
        SignalRoom();
    }

    /// <summary>Waits for a ring; false once the queue was closed and the last ring taken.</summary>
    public async ValueTask<bool> WaitForRingAsync()
    {
        var reader = _doorbell.Reader;
        if (!await reader.WaitToReadAsync())
        {
            return false;
        }

        reader.TryRead(out _);
        return true;
    }

    /// <summary>Moves frames to <paramref name="batch"/> up to about <paramref name="maxBytes"/>: one write's worth.</summary>
    public void TakeBatch(List<Outgoing> batch, long maxBytes)
    {
        lock (_queue)
        {
            long bytes = 0;
            while (bytes < maxBytes && _queue.TryDequeue(out var o))
            {
                batch.Add(o);
                bytes += o.Frame.Length;
            }

            if (_queue.Count == 0 && batch.Count > 64)
            {
                _queue.TrimExcess();
            }
        }
    }

    /// <summary>Frames of <paramref name="bytes"/> left the queue for the socket: progress for the stall check, room for a waiting replay.</summary>
    public void Written(long bytes)
    {
        Interlocked.Add(ref _bytes, -bytes);
        Interlocked.Exchange(ref _lastProgress, clock.GetTimestamp());
        SignalRoom();
    }

    /// <summary>
    /// Drops the queued event frames behind the last positional reply (replies stay, in order) and returns the seq of the
    /// first one dropped, or null when none could be. Event frames queue in seq order, so every event before the first
    /// dropped one has been offered to the socket.
    /// </summary>
    public long? DropEvents()
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
            Interlocked.Add(ref _bytes, -dropped);
            return firstDropped;
        }
    }

    /// <summary>
    /// Null when at most <paramref name="half"/> bytes are queued and a frame of <paramref name="next"/> more fits under
    /// <paramref name="max"/> (or nothing is queued); otherwise a task the next write (or the close) completes.
    /// </summary>
    public Task? RoomOrWait(long half, long max, int next)
    {
        if (HasRoom(half, max, next))
        {
            return null;
        }

        lock (_queue)
        {
            // Checked again under the lock: a write that lands between the two looks signals no waiter.
            if (HasRoom(half, max, next))
            {
                return null;
            }

            _roomWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _roomWaiter.Task;
        }
    }

    private bool HasRoom(long half, long max, int next) =>
        Bytes is var queued && (queued == 0 || (queued <= half && queued + next <= max));

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
}
