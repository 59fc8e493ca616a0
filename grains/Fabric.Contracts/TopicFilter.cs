namespace Fabric.Contracts;

/// <summary>
/// The event types a socket wants: exact types, <c>*</c> for all, or a prefix ending in <c>*</c> (<c>payment.*</c>).
/// Immutable, so the dispatch path reads it without a lock while the receive loop swaps in a new one.
/// </summary>
public sealed class TopicFilter
{
    public static readonly TopicFilter None = new([]);

    /// <summary>Every type: <c>*</c>.</summary>
    public static readonly TopicFilter All = new(["*"]);

    // Exact topics are looked up in a set only past this many: below it a scan is as fast and costs no set per socket.
    private const int SetThreshold = 8;

    // Every socket holds one filter (often two, with its credential's), so it keeps arrays, not sets: an idle socket's
    // memory is the gateway's capacity.
    private readonly string[] _topics;
    private readonly string[] _exact;
    private readonly HashSet<string>? _exactSet;
    private readonly string[] _prefixes;
    private readonly bool _all;

    private TopicFilter(string[] distinctSorted)
    {
        _topics = distinctSorted;
        _all = Array.IndexOf(distinctSorted, "*") >= 0;
        _exact = [.. distinctSorted.Where(t => !t.EndsWith('*'))];
        _exactSet = _exact.Length > SetThreshold ? new HashSet<string>(_exact, StringComparer.Ordinal) : null;
        _prefixes = [.. distinctSorted.Where(t => t.Length > 1 && t.EndsWith('*')).Select(t => t[..^1])];
    }

    public int Count => _topics.Length;

    /// <summary>The topics, sorted (a copy).</summary>
    public string[] Topics => [.. _topics];

    public bool Matches(string type)
    {
        if (_all)
        {
            return true;
        }

        if (_exactSet is not null)
        {
            if (_exactSet.Contains(type))
            {
                return true;
            }
        }
        else
        {
            foreach (var exact in _exact)
            {
                if (string.Equals(exact, type, StringComparison.Ordinal))
                {
                    return true;
                }
            }
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

    public static TopicFilter Of(IEnumerable<string> topics) => Make(topics);

    public TopicFilter With(IEnumerable<string> topics) => Make(_topics.Concat(topics));

    public TopicFilter Without(IEnumerable<string> topics)
    {
        var gone = topics as ICollection<string> ?? [.. topics];
        return Make(_topics.Where(t => !gone.Contains(t)));
    }

    /// <summary>The shared <see cref="None"/> and <see cref="All"/> where they fit: most sockets want everything.</summary>
    private static TopicFilter Make(IEnumerable<string> topics)
    {
        string[] sorted = [.. topics.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        return sorted switch
        {
            [] => None,
            ["*"] => All,
            _ => new TopicFilter(sorted),
        };
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
