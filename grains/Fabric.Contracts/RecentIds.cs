namespace Fabric.Contracts;

/// <summary>
/// The ids of the newest seqs seen, bounded. The grain checks a gateway's witness against the seqs it wrote; a gateway
/// checks pushes for seqs it already released against what it released: a different id at the same seq means the log
/// went back.
/// </summary>
public sealed class RecentIds(int capacity)
{
    private readonly Dictionary<long, string> _ids = [];
    private readonly Queue<long> _order = new();

    /// <summary>Remembers (or replaces) the id at a seq; the oldest seqs go beyond the capacity.</summary>
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
        else
        {
            _ids[seq] = id;
        }
    }

    public void Clear()
    {
        _ids.Clear();
        _order.Clear();
    }

    public bool TryGet(long seq, out string? id) => _ids.TryGetValue(seq, out id);
}
