using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>
/// Which subs hold each topic pattern (pattern → sub → how many times its sessions hold it), so membership of a topic
/// is a handful of lookups: the patterns that match a topic are the topic itself and each of its prefixes followed by
/// <c>*</c>. Not thread-safe: <see cref="SessionTable"/> owns it.
/// </summary>
internal sealed class PresenceIndex
{
    private readonly Dictionary<string, Dictionary<string, int>> _byPattern = new(StringComparer.Ordinal);
    private readonly List<Dictionary<string, int>> _holders = [];

    /// <summary>Lookups made so far: what a change costs, counted rather than timed.</summary>
    public long Probes { get; private set; }

    /// <summary>Counts <paramref name="session"/>'s patterns in (+1) or out (-1).</summary>
    public void Hold(SessionInfo session, int delta)
    {
        foreach (var pattern in session.Topics)
        {
            if (!_byPattern.TryGetValue(pattern, out var holders))
            {
                _byPattern[pattern] = holders = new(StringComparer.Ordinal);
            }

            var count = holders.GetValueOrDefault(session.Sub) + delta;
            if (count > 0)
            {
                holders[session.Sub] = count;
            }
            else
            {
                holders.Remove(session.Sub);
                if (holders.Count == 0)
                {
                    _byPattern.Remove(pattern);
                }
            }
        }
    }

    /// <summary>The subs with a session in <paramref name="topic"/>.</summary>
    public HashSet<string> Subs(string topic)
    {
        var subs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var holders in HoldersOf(topic))
        {
            subs.UnionWith(holders.Keys);
        }

        return subs;
    }

    /// <summary>Whether any session of <paramref name="sub"/> holds a pattern that matches <paramref name="topic"/>.</summary>
    public bool IsMember(string sub, string topic)
    {
        foreach (var holders in HoldersOf(topic))
        {
            if (holders.ContainsKey(sub))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The holders of each pattern that matches <paramref name="topic"/>: the topic itself, and every prefix of it
    /// followed by <c>*</c> (see <see cref="TopicPatterns.Matches"/>). The list is reused by the next call.
    /// </summary>
    private List<Dictionary<string, int>> HoldersOf(string topic)
    {
        _holders.Clear();
        Probes++;
        if (_byPattern.Count == 0)
        {
            return _holders;
        }

        if (_byPattern.TryGetValue(topic, out var exact))
        {
            _holders.Add(exact);
        }

        var lookup = _byPattern.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> buffer = topic.Length < 256 ? stackalloc char[topic.Length + 1] : new char[topic.Length + 1];
        topic.CopyTo(buffer);
        for (var length = 0; length <= topic.Length; length++)
        {
            Probes++;
            var kept = buffer[length];
            buffer[length] = '*';
            var pattern = buffer[..(length + 1)];
            // The topic itself, when it ends in '*', was taken above.
            if (!pattern.SequenceEqual(topic) && lookup.TryGetValue(pattern, out var holders))
            {
                _holders.Add(holders);
            }

            buffer[length] = kept;
        }

        return _holders;
    }
}
