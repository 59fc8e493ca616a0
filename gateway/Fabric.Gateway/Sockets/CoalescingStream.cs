using System.Buffers;
using System.Net.WebSockets;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// The upgraded connection under a socket's <c>ManagedWebSocket</c>, so that a drained send queue leaves in one write
/// and one flush instead of one per frame (each a flush and a <c>send(2)</c>, the largest cost of fan-out). Framing stays <c>ManagedWebSocket</c>'s (masking, fragmentation, control frames, close, UTF-8): only the
/// writes under it are gathered. Outside a batch every write goes straight through, so pongs, keep-alive pings and the
/// close handshake are never held; inside one (microseconds of CPU) they join the batch and leave with it.
/// </summary>
internal sealed class CoalescingStream(Stream inner, TimeProvider clock) : Stream
{
    /// <summary>A batch is flushed on its way once it holds this much, so the buffer stays small.</summary>
    public const int FlushAt = 64 * 1024;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private byte[]? _buffer;
    private int _length;
    private bool _batching;
    private long _lastRead = KeepAliveWheel.Milliseconds(clock);
    private long _reads;
    private bool _closeSent;

    // An empty ping frame (FIN, opcode 9, unmasked as a server's frames are).
    private static readonly byte[] Ping = [0x89, 0x00];

    /// <summary>How many reads the socket has asked for: one more after every frame it read, a pong included.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>
    /// When the socket last asked for bytes from the client (ms, on <see cref="KeepAliveWheel.Milliseconds"/>'s scale):
    /// it does after each frame it read (a pong included), so this is when the client was last heard from. Tracking the
    /// request, not the answer, keeps reads pass-through.
    /// </summary>
    public long LastRead => Interlocked.Read(ref _lastRead);

    /// <summary>Set before the close frame is written: no ping may follow it.</summary>
    public bool CloseSent => Volatile.Read(ref _closeSent);

    public void MarkCloseSent() => Volatile.Write(ref _closeSent, true);

    /// <summary>
    /// The request that carried the socket is over: the wheel lets go at its next look and, seeing the close marked,
    /// never aborts the request's <see cref="HttpContext"/> (Kestrel may reuse it).
    /// </summary>
    public void Detach() => MarkCloseSent();

    private int _handling;

    /// <summary>
    /// The socket's receive loop is busy with a frame (a subscribe positioning the socket) and issues no read meanwhile,
    /// so a pong can wait unread: the keep-alive wheel does not count that as silence.
    /// </summary>
    public bool Handling => Volatile.Read(ref _handling) > 0;

    public void BeginHandling() => Interlocked.Increment(ref _handling);

    public void EndHandling()
    {
        Interlocked.Exchange(ref _lastRead, KeepAliveWheel.Milliseconds(clock));
        Interlocked.Increment(ref _reads);
        Interlocked.Decrement(ref _handling);
    }

    /// <summary>Writes a ping between two frames (joining a batch if one is open); nothing once the close went out.</summary>
    public async Task WritePingAsync()
    {
        try
        {
            await _gate.WaitAsync();
            try
            {
                if (CloseSent)
                {
                    return;
                }

                if (Volatile.Read(ref _batching))
                {
                    Gather(Ping);
                }
                else
                {
                    await inner.WriteAsync(Ping);
                    await inner.FlushAsync();
                }
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The connection is going away; the socket's own loops see it too.
        }
    }

    /// <summary>From now until <see cref="EndBatchAsync"/>, writes are gathered.</summary>
    public void BeginBatch() => Volatile.Write(ref _batching, true);

    /// <summary>Writes what the batch gathered in one write and one flush, and goes back to writing through.</summary>
    public async Task EndBatchAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            Volatile.Write(ref _batching, false);
            await FlushGatheredAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!Volatile.Read(ref _batching))
            {
                // What ManagedWebSocket did on Kestrel's stream before: one write, which Kestrel flushes.
                await inner.WriteAsync(buffer, cancellationToken);
                return;
            }

            Gather(buffer.Span);
            if (_length >= FlushAt)
            {
                await FlushGatheredAsync(cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Appends to a pooled buffer, growing it (by renting a larger one) as needed.</summary>
    private void Gather(ReadOnlySpan<byte> bytes)
    {
        if (_buffer is null || _length + bytes.Length > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_length + bytes.Length, Math.Max(8192, (_buffer?.Length ?? 0) * 2)));
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = bigger;
        }

        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private async Task FlushGatheredAsync(CancellationToken cancellationToken)
    {
        if (_buffer is null)
        {
            return;
        }

        try
        {
            if (_length > 0)
            {
                await inner.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken);
                await inner.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            // Back to the pool: an idle socket holds no buffer.
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _length = 0;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Interlocked.Exchange(ref _lastRead, KeepAliveWheel.Milliseconds(clock));
        Interlocked.Increment(ref _reads);
        return inner.ReadAsync(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        // ManagedWebSocket's own flushes: inside a batch the batch's end flushes.
        Volatile.Read(ref _batching) ? Task.CompletedTask : inner.FlushAsync(cancellationToken);

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        // The gate is not disposed: a SemaphoreSlim without a wait handle needs nothing, and disposing it would strand a
        // batch's end waiting on it while a write fails under an aborting socket. Stream.DisposeAsync comes here too.
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
