using Fabric.Contracts;
using Fabric.Grains.Log;

namespace Fabric.Grains.Customers;

/// <summary>
/// Remembers which (source, key) pairs a customer has seen, bounded by age and by count. Keys are scoped to their
/// source, so a GitHub delivery id and a Stripe event id can never collide.
/// </summary>
internal sealed class IdempotencyWindow(TimeSpan window, int maxKeys)
{
    private readonly Dictionary<(string Source, string Key), AppendResult> _seen = [];
    private readonly Queue<(string Source, string Key, DateTimeOffset Time)> _order = new();

    public int Count => _seen.Count;

    public bool TryGet(string source, string key, DateTimeOffset now, out AppendResult first)
    {
        Expire(now);
        if (_seen.TryGetValue((source, key), out var found))
        {
            first = found with { Duplicate = true };
            return true;
        }

        first = null!;
        return false;
    }

    public void Remember(EventEnvelope e)
    {
        if (e.IdempotencyKey is { } key)
        {
            Remember(e.Source, key, new AppendResult(e.Id, e.Seq, false), e.Time);
        }
    }

    public void Remember(RememberedKey remembered) =>
        Remember(remembered.Source, remembered.Key, new AppendResult(remembered.EventId, remembered.Seq, false), remembered.Time);

    private void Remember(string source, string key, AppendResult result, DateTimeOffset time)
    {
        if (!_seen.TryAdd((source, key), result))
        {
            return;
        }

        _order.Enqueue((source, key, time));
        while (_order.Count > maxKeys)
        {
            var (oldSource, oldKey, _) = _order.Dequeue();
            _seen.Remove((oldSource, oldKey));
        }
    }

    private void Expire(DateTimeOffset now)
    {
        var cutoff = now - window;
        while (_order.TryPeek(out var oldest) && oldest.Time < cutoff)
        {
            _order.Dequeue();
            _seen.Remove((oldest.Source, oldest.Key));
        }
    }
}
