using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Fabric.Contracts;
using Fabric.Grains.Log;

namespace Fabric.Grains.Customers;

/// <summary>
/// Remembers which (source, key) pairs a customer has seen, bounded by age and by count. Keys are scoped to their
/// source, so a GitHub delivery id and a Stripe event id can never collide.
/// </summary>
/// <remarks>
/// Each remembered key costs about 150 bytes of grain memory, whatever its length (measured at 100,000 keys, the
/// collections' spare capacity included): the pair is kept as a 128-bit XxHash seeded at random per activation, the
/// event id as the Guid inside it. Kept as strings (two tuples of them and an <see cref="AppendResult"/>) a
/// 40-character key cost 386 bytes, 39 MB for a customer at the default 100,000 keys: most of a busy silo's growth in
/// the soak. Two different keys share a hash with a probability near n²/2¹²⁹ (about 10⁻²⁹ at 100,000 keys), and the
/// seed is unknown to a sender, who cannot aim for one. The full keys stay in the log (<see
/// cref="IEventLog.ReadKeysAsync"/>), which a new activation rebuilds this from.
/// </remarks>
internal sealed class IdempotencyWindow(TimeSpan window, int maxKeys)
{
    private const string IdPrefix = "evt_";

    private readonly long _seed = Random.Shared.NextInt64();
    private readonly Dictionary<UInt128, First> _seen = [];
    private readonly Queue<(UInt128 Pair, long Ticks)> _order = new();

    public int Count => _seen.Count;

    public bool TryGet(string source, string key, DateTimeOffset now, out AppendResult first)
    {
        Expire(now);
        if (_seen.TryGetValue(Hash(source, key), out var found))
        {
            first = new AppendResult(found.EventId, found.Seq, Duplicate: true);
            return true;
        }

        first = null!;
        return false;
    }

    public void Remember(EventEnvelope e)
    {
        if (e.IdempotencyKey is { } key)
        {
            Remember(e.Source, key, e.Id, e.Seq, e.Time);
        }
    }

    public void Remember(RememberedKey remembered) =>
        Remember(remembered.Source, remembered.Key, remembered.EventId, remembered.Seq, remembered.Time);

    private void Remember(string source, string key, string eventId, long seq, DateTimeOffset time)
    {
        var pair = Hash(source, key);
        if (!_seen.TryAdd(pair, First.Of(eventId, seq)))
        {
            return;
        }

        _order.Enqueue((pair, time.UtcTicks));
        while (_order.Count > maxKeys)
        {
            _seen.Remove(_order.Dequeue().Pair);
        }
    }

    private void Expire(DateTimeOffset now)
    {
        var cutoff = (now - window).UtcTicks;
        while (_order.TryPeek(out var oldest) && oldest.Ticks < cutoff)
        {
            _order.Dequeue();
            _seen.Remove(oldest.Pair);
        }
    }

    /// <summary>The source's length, then both strings' UTF-16 bytes: no (source, key) split reads as another.</summary>
    private UInt128 Hash(string source, string key)
    {
        var length = sizeof(int) + ((source.Length + key.Length) * sizeof(char));
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(length));
        BinaryPrimitives.WriteInt32LittleEndian(buffer, source.Length);
        MemoryMarshal.AsBytes(source.AsSpan()).CopyTo(buffer[sizeof(int)..]);
        MemoryMarshal.AsBytes(key.AsSpan()).CopyTo(buffer[(sizeof(int) + (source.Length * sizeof(char)))..]);
        var hash = XxHash128.HashToUInt128(buffer[..length], _seed);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return hash;
    }

    /// <summary>
    /// The first event of a key: its id as the Guid the grain made it from (<c>evt_</c> and 32 lowercase hex digits),
    /// or, for an id of any other shape, the string itself.
    /// </summary>
    private readonly record struct First(Guid Guid, string? Other, long Seq)
    {
        public string EventId => Other ?? IdPrefix + Guid.ToString("N");

        public static First Of(string eventId, long seq) =>
            eventId.Length == IdPrefix.Length + 32
            && eventId.StartsWith(IdPrefix, StringComparison.Ordinal)
            && !eventId.AsSpan(IdPrefix.Length).ContainsAnyInRange('A', 'Z')
            && Guid.TryParseExact(eventId.AsSpan(IdPrefix.Length), "N", out var guid)
                ? new First(guid, null, seq)
                : new First(Guid.Empty, eventId, seq);
    }
}
