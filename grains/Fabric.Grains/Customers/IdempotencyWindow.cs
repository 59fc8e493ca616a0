using Fabric.Contracts;

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
        if (e.IdempotencyKey is null || !_seen.TryAdd((e.Source, e.IdempotencyKey), new AppendResult(e.Id, e.Seq, false)))
        {
            return;
        }

        _order.Enqueue((e.Source, e.IdempotencyKey, e.Time));
        while (_order.Count > maxKeys)
        {
            var (source, key, _) = _order.Dequeue();
            _seen.Remove((source, key));
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
