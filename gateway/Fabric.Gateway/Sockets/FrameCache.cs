using Fabric.Contracts;
using Fabric.Gateway.Events;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// One customer's recent <c>event</c> frames, serialized once and shared by every socket replaying the same stretch of
/// history (a gateway restart resumes thousands of sockets at nearby seqs) and by live delivery meanwhile. Filled only
/// while a replay runs and cleared after the last one, so quiet feeds hold nothing. Bounded by bytes; the oldest go first. Keyed by seq and checked by event id, so a seq that names another event
/// in a new epoch is never served the old frame.
/// </summary>
internal sealed class FrameCache(long maxBytes)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, (string Id, byte[] Frame)> _frames = [];
    private readonly Queue<long> _order = new();
    private long _bytes;

    /// <summary>How many frames were serialized (not served from the cache).</summary>
    public long Serialized { get; private set; }

    /// <summary>Forgets every frame (no replay needs them any more).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _frames.Clear();
            _order.Clear();
            _bytes = 0;
        }
    }

    public byte[] Get(EventEnvelope e)
    {
        // Serialized under the lock: sockets replaying the same page at the same moment wait a few microseconds for
        // the one serialization instead of each making its own.
        lock (_lock)
        {
            if (_frames.TryGetValue(e.Seq, out var cached) && cached.Id == e.Id)
            {
                return cached.Frame;
            }

            var frame = EventJson.Frame(e);
            Serialized++;
            if (_frames.Remove(e.Seq, out var replaced))
            {
                _bytes -= replaced.Frame.Length;
            }
            else
            {
                _order.Enqueue(e.Seq);
            }

            _frames[e.Seq] = (e.Id, frame);
            _bytes += frame.Length;
            while (_bytes > maxBytes && _order.TryDequeue(out var oldest))
            {
                if (_frames.Remove(oldest, out var dropped))
                {
                    _bytes -= dropped.Frame.Length;
                }
            }

            return frame;
        }
    }
}
