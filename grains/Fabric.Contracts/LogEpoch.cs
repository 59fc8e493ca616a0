namespace Fabric.Contracts;

/// <summary>
/// Which incarnation of a customer's log seqs belong to. A log gets a new epoch whenever it starts over (a new
/// in-memory log after a restart, a Redis that lost the customer's keys) or is found behind seqs it had already handed
/// out (a Redis crash under <c>appendfsync everysec</c>, a failover to an async replica): from then on the same seq may
/// name a different event than before.
/// </summary>
/// <param name="Id">Opaque; compare for equality only.</param>
/// <param name="Base">
/// Where this epoch forked from <paramref name="Previous"/>: seqs up to and including it mean the same events in both.
/// </param>
/// <param name="Previous">The epoch this one forked from, when known.</param>
/// <param name="Floor">
/// The lowest fork in the log's known history: a position from any older epoch is valid up to here. A log that started
/// over has floor 0.
/// </param>
/// <param name="Generation">
/// How many forks led here: a fork is one more than the epoch it forked from. A log that starts over begins again at 0,
/// so generations order the epochs of one log's history, not across restarts.
/// </param>
[GenerateSerializer, Immutable, Alias("fabric.LogEpoch")]
public sealed record LogEpoch(
    [property: Id(0)] string Id,
    [property: Id(1)] long Base,
    [property: Id(2)] string? Previous = null,
    [property: Id(3)] long Floor = 0,
    [property: Id(4)] int Generation = 0)
{
    /// <summary>A fresh epoch forking at <paramref name="fork"/> from <paramref name="previous"/> (or a new log's first).</summary>
    public static LogEpoch New(long fork, LogEpoch? previous = null) =>
        new(Guid.NewGuid().ToString("N")[..16], fork, previous?.Id, Math.Min(fork, previous?.Floor ?? fork), previous is null ? 0 : previous.Generation + 1);

    /// <summary>Up to which seq a position taken in epoch <paramref name="epoch"/> still names the same event here.</summary>
    public long ValidUpTo(string epoch) => epoch == Id ? long.MaxValue : epoch == Previous ? Base : Floor;

    /// <summary>True when a reader's position (<paramref name="epoch"/>, <paramref name="seq"/>) is valid in this epoch.</summary>
    public bool Covers(string? epoch, long seq) => epoch is null || seq <= ValidUpTo(epoch);
}

/// <summary>A position a reader reached: the seq it last took from the log, that event's id, and the epoch.</summary>
[GenerateSerializer, Immutable, Alias("fabric.LogPosition")]
public sealed record LogPosition([property: Id(0)] string Epoch, [property: Id(1)] long Seq, [property: Id(2)] string? EventId);
