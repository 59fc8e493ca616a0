namespace Fabric.Gateway.Sockets;

/// <summary>
/// The event types a socket wants: exact types, <c>*</c> for all, or a prefix ending in <c>*</c> (<c>payment.*</c>).
/// Immutable, so the dispatch path reads it without a lock while the receive loop swaps in a new one.
/// </summary>
internal sealed class TopicFilter
{
    public static readonly TopicFilter None = new([]);

    /// <summary>Every type: <c>*</c>.</summary>
    public static readonly TopicFilter All = new(["*"]);

    private readonly HashSet<string> _topics;
    private readonly HashSet<string> _exact;
    private readonly string[] _prefixes;
    private readonly bool _all;

    private TopicFilter(HashSet<string> topics)
    {
        _topics = topics;
        _exact = new HashSet<string>(topics.Where(t => !t.EndsWith('*')), StringComparer.Ordinal);
        _prefixes = [.. topics.Where(t => t.Length > 1 && t.EndsWith('*')).Select(t => t[..^1])];
        _all = topics.Contains("*");
    }

    public int Count => _topics.Count;

    public string[] Topics => [.. _topics.Order(StringComparer.Ordinal)];

    public bool Matches(string type)
    {
        if (_all || _exact.Contains(type))
        {
            return true;
        }

        foreach (var prefix in _prefixes)
        {
            if (type.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when every type <paramref name="topic"/> can match is matched here: a grant of <c>chat.*</c> covers
    /// <c>chat.room1</c> and <c>chat.room1.*</c>, but not <c>chat*</c> or <c>*</c>.
    /// </summary>
    public bool Covers(string topic)
    {
        if (!topic.EndsWith('*'))
        {
            return Matches(topic);
        }

        var prefix = topic[..^1];
        return _all || _prefixes.Any(p => prefix.StartsWith(p, StringComparison.Ordinal));
    }

    public static TopicFilter Of(IEnumerable<string> topics) => new([.. topics.Distinct(StringComparer.Ordinal)]);

    public TopicFilter With(IEnumerable<string> topics) => new([.. _topics.Union(topics, StringComparer.Ordinal)]);

    public TopicFilter Without(IEnumerable<string> topics)
    {
        var left = new HashSet<string>(_topics, StringComparer.Ordinal);
        left.ExceptWith(topics);
        return new TopicFilter(left);
    }

    /// <summary>1-200 printable ASCII characters without spaces; <c>*</c> only as the last character.</summary>
    public static bool IsValidTopic(string? topic)
    {
        if (topic is not { Length: > 0 and <= 200 })
        {
            return false;
        }

        for (var i = 0; i < topic.Length; i++)
        {
            var c = topic[i];
            if (c is <= ' ' or > '~' || (c == '*' && i != topic.Length - 1))
            {
                return false;
            }
        }

        return true;
    }
}
