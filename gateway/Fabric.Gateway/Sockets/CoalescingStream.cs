using System.Buffers;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// The upgraded connection under a socket's <c>ManagedWebSocket</c>, so that a drained send queue leaves in one write
/// and one flush instead of one per frame (each a flush and a <c>send(2)</c>: 60 % of the gateway's CPU in the fan-out
/// profile). Framing stays <c>ManagedWebSocket</c>'s (masking, fragmentation, control frames, close, UTF-8): only the
/// writes under it are gathered. Outside a batch every write goes straight through, so pongs, keep-alive pings and the
/// close handshake are never held; inside one (microseconds of CPU) they join the batch and leave with it.
/// </summary>
internal sealed class CoalescingStream(Stream inner) : Stream
{
    /// <summary>A batch is flushed on its way once it holds this much, so the buffer stays small.</summary>
    public const int FlushAt = 64 * 1024;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private byte[]? _buffer;
    private int _length;
    private bool _batching;

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

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

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
