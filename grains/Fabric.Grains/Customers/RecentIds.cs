namespace Fabric.Grains.Customers;

/// <summary>The ids of the newest seqs written, bounded: enough to check a gateway's claim about what it received.</summary>
internal sealed class RecentIds(int capacity)
{
    private readonly Dictionary<long, string> _ids = [];
    private readonly Queue<long> _order = new();

    public void Add(long seq, string id)
    {
        if (_ids.TryAdd(seq, id))
        {
            _order.Enqueue(seq);
            if (_order.Count > capacity)
            {
                _ids.Remove(_order.Dequeue());
            }
        }
    }

    public bool TryGet(long seq, out string? id) => _ids.TryGetValue(seq, out id);
}
