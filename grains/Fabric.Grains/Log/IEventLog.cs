using Fabric.Contracts;

namespace Fabric.Grains.Log;

/// <summary>
/// Where a customer's events are kept. It outlives grain activations, so a reactivated grain continues its seq and
/// its history from here. In-memory in embedded mode; a durable implementation plugs in behind the same interface.
/// Nothing here writes for a customer that never appended: reading an unknown customer leaves no trace.
/// </summary>
public interface IEventLog
{
    /// <summary>Returns the oldest retained and the newest seq of a customer's log, and its epoch once one was written.</summary>
    ValueTask<LogHead> ReadHeadAsync(string customer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends events whose seqs continue the log without a gap, under <paramref name="epoch"/> (stored with the first
    /// append); complete means kept. Throws <see cref="LogUnavailableException"/> when the log is not where the caller
    /// believes: another epoch is stored (a newer activation forked it), or the log is behind the first seq — it lost
    /// events that were handed out, and the log then forks to a new epoch itself, so the next activation sees it.
    /// <paramref name="follows"/>: the caller sent this write while the one before it was still in flight (pipelined);
    /// a gap before it then means that write did not land, and the log refuses this one without forking.
    /// </summary>
    ValueTask AppendAsync(string customer, LogEpoch epoch, IReadOnlyList<EventEnvelope> events, bool follows = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the epoch with <paramref name="replacement"/> if <paramref name="current"/> (or none) is stored; returns the
    /// epoch stored afterwards.
    /// </summary>
    ValueTask<LogEpoch> ForkAsync(string customer, LogEpoch current, LogEpoch replacement, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads events with seq greater than <paramref name="afterSeq"/>, in order: at most <paramref name="max"/> of them
    /// and, past the first, no more than <paramref name="maxBytes"/> in all (by <see cref="EventSize"/>).
    /// </summary>
    ValueTask<IReadOnlyList<EventEnvelope>> ReadAsync(string customer, long afterSeq, int max, long maxBytes, CancellationToken cancellationToken = default);

    /// <summary>Drops the oldest events beyond any of the <paramref name="limits"/>; returns the new head.</summary>
    ValueTask<LogHead> TrimAsync(string customer, RetentionLimits limits, CancellationToken cancellationToken = default);

    /// <summary>
    /// The idempotency keys of appended events (each is kept by the same write as its event, and outlives the event's
    /// retention): the newest <paramref name="max"/> not older than <paramref name="since"/>, oldest first.
    /// </summary>
    ValueTask<IReadOnlyList<RememberedKey>> ReadKeysAsync(string customer, DateTimeOffset since, int max, CancellationToken cancellationToken = default);

    /// <summary>Forgets keys older than <paramref name="cutoff"/> and all but the newest <paramref name="maxKeys"/>.</summary>
    ValueTask TrimKeysAsync(string customer, DateTimeOffset cutoff, int maxKeys, CancellationToken cancellationToken = default);
}

/// <summary>An idempotency key and the event it first named.</summary>
public sealed record RememberedKey(string Source, string Key, string EventId, long Seq, DateTimeOffset Time);

/// <summary>
/// The retained range of a customer's log: seqs <c>FirstRetainedSeq..LastSeq</c> (empty when first &gt; last), and its
/// epoch (null until the first append stores one).
/// </summary>
public readonly record struct LogHead(long FirstRetainedSeq, long LastSeq, LogEpoch? Epoch = null)
{
    public static LogHead Empty => new(1, 0);
}

/// <summary>Retention: an event goes once it is beyond any of these (the newest events are kept).</summary>
/// <param name="MaxEvents">Most events kept.</param>
/// <param name="MaxBytes">Most bytes kept, by <see cref="EventSize"/>; trimmed in whole log writes (group commits).</param>
/// <param name="Cutoff">Events accepted before this go.</param>
public readonly record struct RetentionLimits(int MaxEvents, long MaxBytes, DateTimeOffset Cutoff);
