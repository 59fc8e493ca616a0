using Fabric.Contracts;

namespace Fabric.Grains.Log;

/// <summary>
/// Where a customer's events are kept. It outlives grain activations, so a reactivated grain continues its seq and
/// its history from here. In-memory in embedded mode; a durable implementation plugs in behind the same interface.
/// </summary>
public interface IEventLog
{
    /// <summary>Returns the oldest retained and the newest seq of a customer's log.</summary>
    ValueTask<LogHead> ReadHeadAsync(string customer, CancellationToken cancellationToken = default);

    /// <summary>Appends events whose seqs continue the log without a gap; complete means kept.</summary>
    ValueTask AppendAsync(string customer, IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="max"/> events with seq greater than <paramref name="afterSeq"/>, in order.</summary>
    ValueTask<IReadOnlyList<EventEnvelope>> ReadAsync(string customer, long afterSeq, int max, CancellationToken cancellationToken = default);

    /// <summary>Drops events beyond <paramref name="maxEvents"/> or older than <paramref name="cutoff"/>; returns the new head.</summary>
    ValueTask<LogHead> TrimAsync(string customer, int maxEvents, DateTimeOffset cutoff, CancellationToken cancellationToken = default);

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

/// <summary>The retained range of a customer's log: seqs <c>FirstRetainedSeq..LastSeq</c> (empty when first &gt; last).</summary>
public readonly record struct LogHead(long FirstRetainedSeq, long LastSeq)
{
    public static LogHead Empty => new(1, 0);
}
