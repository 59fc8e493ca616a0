using System.Collections.Concurrent;
using Fabric.Contracts;

namespace Fabric.Grains.Log;

/// <summary>
/// The embedded-mode log: per-customer lists in silo memory. Survives grain deactivation, not a silo restart.
/// </summary>
public sealed class InMemoryEventLog : IEventLog
{
    private readonly ConcurrentDictionary<string, CustomerLog> _logs = new(StringComparer.Ordinal);

    public ValueTask<LogHead> ReadHeadAsync(string customer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_logs.TryGetValue(customer, out var log) ? log.Head : LogHead.Empty);

    public ValueTask AppendAsync(string customer, IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken = default)
    {
        _logs.GetOrAdd(customer, static _ => new CustomerLog()).Append(events);
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<EventEnvelope>> ReadAsync(string customer, long afterSeq, int max, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_logs.TryGetValue(customer, out var log) ? log.Read(afterSeq, max) : (IReadOnlyList<EventEnvelope>)[]);

    public ValueTask<LogHead> TrimAsync(string customer, int maxEvents, DateTimeOffset cutoff, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_logs.TryGetValue(customer, out var log) ? log.Trim(maxEvents, cutoff) : LogHead.Empty);

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
    /// Events live in a list with a moving head: seqs are contiguous, so seq N sits at <c>_head + N - first</c>.
    /// The lock is uncontended in practice (one grain activation writes) but reads come from any thread.
    /// </summary>
    private sealed class CustomerLog
    {
        private readonly Lock _lock = new();
        private readonly List<EventEnvelope> _items = [];
        private int _head;
        private long _firstSeq = 1;
        private long _lastSeq;

        // Keys in append order, which is time order: expiry and the count bound both drop from the front.
        private readonly Queue<RememberedKey> _keys = new();

        public LogHead Head
        {
            get { lock (_lock) { return new LogHead(_firstSeq, _lastSeq); } }
        }

        public void Append(IReadOnlyList<EventEnvelope> events)
        {
            lock (_lock)
            {
                foreach (var e in events)
                {
                    if (e.Seq != _lastSeq + 1)
                    {
                        throw new InvalidOperationException($"Append out of order: expected seq {_lastSeq + 1}, got {e.Seq}.");
                    }

                    if (_items.Count == _head)
                    {
                        _firstSeq = e.Seq;
                    }

                    _items.Add(e);
                    _lastSeq = e.Seq;
                    if (e.IdempotencyKey is { } key)
                    {
                        _keys.Enqueue(new RememberedKey(e.Source, key, e.Id, e.Seq, e.Time));
                    }
                }
            }
        }

        public List<EventEnvelope> Read(long afterSeq, int max)
        {
            lock (_lock)
            {
                var from = Math.Max(afterSeq + 1, _firstSeq);
                if (from > _lastSeq || max <= 0)
                {
                    return [];
                }

                var start = _head + (int)(from - _firstSeq);
                var count = (int)Math.Min(max, _items.Count - start);
                return _items.GetRange(start, count);
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

        public LogHead Trim(int maxEvents, DateTimeOffset cutoff)
        {
            lock (_lock)
            {
                while (_head < _items.Count && (_items.Count - _head > maxEvents || _items[_head].Time < cutoff))
                {
                    _items[_head++] = null!;
                    _firstSeq++;
                }

                // Compact once the dropped prefix outweighs what is kept, so trimming stays amortised O(1).
                if (_head > 1024 && _head > _items.Count / 2)
                {
                    _items.RemoveRange(0, _head);
                    _head = 0;
                }

                return new LogHead(_firstSeq, _lastSeq);
            }
        }
    }
}
