namespace Fabric.Gateway.Sockets;

/// <summary>
/// Which of a customer's sockets on this gateway watch each topic's joins and leaves, so a presence change reaches
/// them without a walk over every socket. Not thread-safe: <see cref="CustomerFeed"/> uses it under its lock.
/// </summary>
internal sealed class PresenceWatchers
{
    private readonly Dictionary<string, HashSet<SocketSession>> _byTopic = new(StringComparer.Ordinal);

    public void Add(SocketSession session, IEnumerable<string> topics)
    {
        foreach (var topic in topics)
        {
            if (!_byTopic.TryGetValue(topic, out var watchers))
            {
                _byTopic[topic] = watchers = [];
            }

            watchers.Add(session);
        }
    }

    public void Remove(SocketSession session, IEnumerable<string> topics)
    {
        foreach (var topic in topics)
        {
            if (_byTopic.TryGetValue(topic, out var watchers) && watchers.Remove(session) && watchers.Count == 0)
            {
                _byTopic.Remove(topic);
            }
        }
    }

    public IReadOnlyCollection<SocketSession> Of(string topic) => _byTopic.TryGetValue(topic, out var watchers) ? watchers : [];
}
