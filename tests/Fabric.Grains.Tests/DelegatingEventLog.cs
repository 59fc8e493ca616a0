using Fabric.Contracts;
using Fabric.Grains.Log;

namespace Fabric.Grains.Tests;

/// <summary>
/// The real in-memory log behind every call; a test log overrides only the calls it holds, fails or counts.
/// </summary>
internal abstract class DelegatingEventLog : IEventLog
{
    protected InMemoryEventLog Inner { get; } = new();

    public virtual ValueTask<LogHead> ReadHeadAsync(string customer, CancellationToken cancellationToken = default) =>
        Inner.ReadHeadAsync(customer, cancellationToken);

    public virtual ValueTask AppendAsync(string customer, LogEpoch epoch, IReadOnlyList<EventEnvelope> events, bool follows = false, CancellationToken cancellationToken = default) =>
        Inner.AppendAsync(customer, epoch, events, follows, cancellationToken);

    public virtual ValueTask<LogEpoch> ForkAsync(string customer, LogEpoch current, LogEpoch replacement, CancellationToken cancellationToken = default) =>
        Inner.ForkAsync(customer, current, replacement, cancellationToken);

    public virtual ValueTask<IReadOnlyList<EventEnvelope>> ReadAsync(string customer, long afterSeq, int max, long maxBytes, CancellationToken cancellationToken = default) =>
        Inner.ReadAsync(customer, afterSeq, max, maxBytes, cancellationToken);

    public virtual ValueTask<LogHead> TrimAsync(string customer, RetentionLimits limits, CancellationToken cancellationToken = default) =>
        Inner.TrimAsync(customer, limits, cancellationToken);

    public virtual ValueTask<IReadOnlyList<RememberedKey>> ReadKeysAsync(string customer, DateTimeOffset since, int max, CancellationToken cancellationToken = default) =>
        Inner.ReadKeysAsync(customer, since, max, cancellationToken);

    public virtual ValueTask TrimKeysAsync(string customer, DateTimeOffset cutoff, int maxKeys, CancellationToken cancellationToken = default) =>
        Inner.TrimKeysAsync(customer, cutoff, maxKeys, cancellationToken);
}
