using System.Collections.Concurrent;
using Fabric.Contracts;

namespace Fabric.Grains.Log;

/// <summary>
/// The embedded-mode log: each customer's events as bytes in silo memory (<see cref="RetainedEvents"/>). Survives grain
/// deactivation, not a silo restart — which is why each log is created with a fresh epoch: after a restart, a reader
/// holding a position from before sees another epoch and knows its seqs no longer name the same events. A customer gets
/// an entry only with its first append.
/// </summary>
public sealed class InMemoryEventLog : IEventLog
{
    private readonly ConcurrentDictionary<string, CustomerLog> _logs = new(StringComparer.Ordinal);

    /// <summary>How many customers have a log here (tests check that readers and strangers add none).</summary>
    public int CustomerCount => _logs.Count;

    public ValueTask<LogHead> ReadHeadAsync(string customer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_logs.TryGetValue(customer, out var log) ? log.Head : LogHead.Empty);

    // Never forks (nothing here is lost by a restart it survives), so a pipelined write needs no special case.
    public ValueTask AppendAsync(string customer, LogEpoch epoch, IReadOnlyList<EventEnvelope> events, bool follows = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count > 0)
        {
            _logs.GetOrAdd(customer, static c => new CustomerLog(c)).Append(epoch, events);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<LogEpoch> ForkAsync(string customer, LogEpoch current, LogEpoch replacement, CancellationToken cancellationToken = default) =>
        // A log that does not exist has nothing to fork: the next append stores whichever epoch its grain holds.
        ValueTask.FromResult(_logs.TryGetValue(customer, out var log) ? log.Fork(current, replacement) : replacement);

    public ValueTask<IReadOnlyList<EventEnvelope>> ReadAsync(string customer, long afterSeq, int max, long maxBytes, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_logs.TryGetValue(customer, out var log) ? log.Read(afterSeq, max, maxBytes) : (IReadOnlyList<EventEnvelope>)[]);

    public ValueTask<LogHead> TrimAsync(string customer, RetentionLimits limits, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_logs.TryGetValue(customer, out var log) ? log.Trim(limits) : LogHead.Empty);

    public ValueTask<IReadOnlyList<RememberedKey>> ReadKeysAsync(string customer, DateTimeOffset since, int max, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_logs.TryGetValue(customer, out var log) ? log.ReadKeys(since, max) : (IReadOnlyList<RememberedKey>)[]);

    public ValueTask TrimKeysAsync(string customer, DateTimeOffset cutoff, int maxKeys, CancellationToken cancellationToken = default)
    {
        if (_logs.TryGetValue(customer, out var log))
        {
            log.TrimKeys(cutoff, maxKeys);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Events are kept as bytes (<see cref="RetainedEvents"/>) with contiguous seqs, so seq N is the
    /// <c>N - FirstSeq</c>-th. The lock is uncontended in practice (one grain activation writes) but reads come from any thread.
    /// </summary>
    private sealed class CustomerLog(string customer)
    {
        private readonly Lock _lock = new();
        private readonly RetainedEvents _events = new(customer);
        private long _lastSeq;
        private LogEpoch? _epoch;

        // Keys in append order, which is time order: expiry and the count bound both drop from the front.
        private readonly Queue<RememberedKey> _keys = new();

        public LogHead Head
        {
            get { lock (_lock) { return HeadLocked(); } }
        }

        public void Append(LogEpoch epoch, IReadOnlyList<EventEnvelope> events)
        {
            lock (_lock)
            {
                // The epoch just before the stored one is accepted: the activation that forked it may have had a write on its way.
                if (_epoch is not null && _epoch != epoch && _epoch.Previous != epoch.Id)
                {
                    throw new LogUnavailableException("The log was forked to another epoch; this activation is stale.");
                }

                if (events[0].Seq != _lastSeq + 1)
                {
                    throw new LogUnavailableException($"Append out of order: expected seq {_lastSeq + 1}, got {events[0].Seq}.");
                }

                _epoch ??= epoch;
                foreach (var e in events)
                {
                    _events.Add(e);
                    _lastSeq = e.Seq;
                    if (e.IdempotencyKey is { } key)
                    {
                        _keys.Enqueue(new RememberedKey(e.Source, key, e.Id, e.Seq, e.Time));
                    }
                }
            }
        }

        public LogEpoch Fork(LogEpoch current, LogEpoch next)
        {
            lock (_lock)
            {
                if (_epoch is null || _epoch == current)
                {
                    _epoch = next;
                }

                return _epoch;
            }
        }

        public List<EventEnvelope> Read(long afterSeq, int max, long maxBytes)
        {
            lock (_lock)
            {
                if (afterSeq >= _lastSeq || max <= 0 || _events.Count == 0)
                {
                    return [];
                }

                var start = (int)(Math.Max(afterSeq + 1, _events.FirstSeq) - _events.FirstSeq);
                var count = EventSize.FitWeights(_events.Count - start, max, maxBytes, i => _events.WeightAt(start + i));
                var page = new List<EventEnvelope>(count);
                for (var i = 0; i < count; i++)
                {
                    page.Add(_events.Read(start + i));
                }

                return page;
            }
        }

        public List<RememberedKey> ReadKeys(DateTimeOffset since, int max)
        {
            lock (_lock)
            {
                return [.. _keys.Where(k => k.Time >= since).TakeLast(max)];
            }
        }

        public void TrimKeys(DateTimeOffset cutoff, int maxKeys)
        {
            lock (_lock)
            {
                while (_keys.TryPeek(out var oldest) && (oldest.Time < cutoff || _keys.Count > maxKeys))
                {
                    _keys.Dequeue();
                }
            }
        }

        public LogHead Trim(RetentionLimits limits)
        {
            lock (_lock)
            {
                while (_events.Count > 0
                    && (_events.Count > limits.MaxEvents || _events.Bytes > limits.MaxBytes || _events.TimeAt(0) < limits.Cutoff))
                {
                    _events.DropOldest();
                }

                return HeadLocked();
            }
        }

        // The retained events' first seq is one past the newest when none is retained, so it is the head's first as is.
        private LogHead HeadLocked() => new(_events.FirstSeq, _lastSeq, _epoch);
    }
}
