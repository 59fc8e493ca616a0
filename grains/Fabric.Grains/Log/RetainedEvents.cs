using System.Runtime.InteropServices;
using Fabric.Contracts;

namespace Fabric.Grains.Log;

/// <summary>
/// One customer's retained events as <see cref="EventRecord"/> bytes in a few large arrays, in seq order, with a
/// reference-free index beside them. Retention keeps thousands of events for seconds to hours, and as objects each of
/// them was copied by every gen0 and gen1 collection it lived through: at 10,000 events a second the collector's pauses
/// were the end-to-end tail. Here the collector sees a handful of arrays per customer and never scans the index. An
/// envelope is built again only when it is read (replay, gap fill, history), which is rare beside appending.
/// Not thread-safe: the log serialises access.
/// </summary>
public sealed class RetainedEvents(string customer)
{
    // Chunks double from small, so a customer with a few events holds a few KB; at the largest a chunk is on the large
    // object heap, which the collector neither promotes nor (by default) compacts.
    internal const int FirstChunkBytes = 4 * 1024;
    internal const int MaxChunkBytes = 1024 * 1024;

    private readonly List<byte[]> _chunks = [];
    private byte[]? _spare;            // the last full-size chunk trimming freed, for the next one needed
    private int _firstChunkNumber;     // the number of _chunks[0]; chunks are numbered in the order they were made
    private int _used;                 // bytes used in the last chunk
    private Entry[] _entries = [];
    private int _head;                 // index of the oldest retained entry
    private int _count;                // retained entries, from _head on
    private long _firstSeq = 1;

    /// <summary>How many events are retained.</summary>
    public int Count => _count;

    /// <summary>The seq of the oldest retained event (one past the newest when none is).</summary>
    public long FirstSeq => _firstSeq;

    /// <summary>Their weight by <see cref="EventSize"/>.</summary>
    public long Bytes { get; private set; }

    /// <summary>Bytes held in chunks, used or not, and the spare (tests show trimming gives them back).</summary>
    public long ChunkBytes
    {
        get
        {
            long total = _spare?.Length ?? 0;
            foreach (var chunk in _chunks)
            {
                total += chunk.Length;
            }

            return total;
        }
    }

    /// <summary>Keeps <paramref name="e"/> as the newest event; its seq must follow the newest one's.</summary>
    public void Add(EventEnvelope e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (_count == 0)
        {
            _firstSeq = e.Seq;
        }

        var size = EventRecord.SizeOf(e);
        if (_chunks.Count == 0 || _chunks[^1].Length - _used < size)
        {
            var last = _chunks.Count == 0 ? 0 : _chunks[^1].Length;
            var length = Math.Max(size, Math.Clamp(last * 2, FirstChunkBytes, MaxChunkBytes));
            // A log at its retention frees a chunk about as often as it fills one: reusing it keeps a steady stream
            // from allocating on the large object heap, whose budget triggers full collections.
            if (length == MaxChunkBytes && _spare is { } spare)
            {
                _chunks.Add(spare);
                _spare = null;
            }
            else
            {
                _chunks.Add(new byte[length]);
            }

            _used = 0;
        }

        EventRecord.Write(e, _chunks[^1].AsSpan(_used, size));
        var weight = EventSize.Of(e);
        Push(new Entry(_firstChunkNumber + _chunks.Count - 1, _used, size, e.Time.UtcTicks, weight));
        _used += size;
        Bytes += weight;
    }

    /// <summary>The weight by <see cref="EventSize"/> of the i-th retained event, oldest first.</summary>
    public long WeightAt(int index) => At(index).Weight;

    /// <summary>When the i-th retained event was accepted.</summary>
    public DateTimeOffset TimeAt(int index) => new(At(index).UtcTicks, TimeSpan.Zero);

    /// <summary>Builds the i-th retained event, oldest first.</summary>
    public EventEnvelope Read(int index)
    {
        var entry = At(index);
        return EventRecord.Read(_chunks[entry.Chunk - _firstChunkNumber].AsSpan(entry.Offset, entry.Length), customer);
    }

    /// <summary>Drops the oldest retained event, and the chunk it was the last one in.</summary>
    public void DropOldest()
    {
        var dropped = At(0);
        _entries[_head] = default;
        _head = (_head + 1) % _entries.Length;
        _count--;
        _firstSeq++;
        Bytes -= dropped.Weight;

        var nextChunk = _count == 0 ? int.MaxValue : At(0).Chunk;
        while (_chunks.Count > 0 && _firstChunkNumber < nextChunk)
        {
            if (_chunks[0].Length == MaxChunkBytes && _count > 0)
            {
                _spare = _chunks[0];
            }

            _chunks.RemoveAt(0);
            _firstChunkNumber++;
        }

        if (_count == 0)
        {
            // An emptied log gives all its memory back.
            _spare = null;
            _entries = [];
            _head = 0;
            _used = 0;
        }
    }

    private ref Entry At(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
        return ref _entries[(_head + index) % _entries.Length];
    }

    private void Push(Entry entry)
    {
        if (_count == _entries.Length)
        {
            var grown = new Entry[Math.Max(16, _entries.Length * 2)];
            for (var i = 0; i < _count; i++)
            {
                grown[i] = _entries[(_head + i) % _entries.Length];
            }

            _entries = grown;
            _head = 0;
        }

        _entries[(_head + _count) % _entries.Length] = entry;
        _count++;
    }

    // No references, so the collector never scans the index, however long it grows.
    [StructLayout(LayoutKind.Auto)]
    private readonly record struct Entry(int Chunk, int Offset, int Length, long UtcTicks, long Weight);
}
