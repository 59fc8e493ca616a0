using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>
/// A presence member joined or left <see cref="Topic"/>; <see cref="Gateways"/> hold sessions that watch it (a live view:
/// read it before the table changes again).
/// </summary>
internal readonly record struct PresenceNotice(string Topic, bool Joined, PresenceMember Member, IReadOnlyCollection<string> Gateways);

/// <summary>
/// The customer's socket sessions on every gateway, and presence over them. A member of a topic is a <c>sub</c>, not a
/// session: a second tab joins nothing, and closing one of two tabs leaves nothing. In memory only, and not thread-safe:
/// the grain calls it within one turn, so no caller sees a session half changed.
/// </summary>
/// <remarks>
/// A session's change costs in proportion to its own topics, whatever the number of sessions or watched topics: only
/// the watched topics its own patterns match can see its sub join or leave, and membership is a lookup in
/// <see cref="PresenceIndex"/>.
/// </remarks>
internal sealed class SessionTable(TimeProvider time, TimeSpan expiry, Action<PresenceNotice> announce)
{
    private readonly Dictionary<string, SessionInfo> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, SessionInfo>> _bySub = new(StringComparer.Ordinal);

    private readonly PresenceIndex _members = new();

    // Watched topic → gateway → how many of its sessions watch it: where joins and leaves go. The sorted copy finds the
    // watched topics under a prefix pattern.
    private readonly Dictionary<string, Dictionary<string, int>> _watched = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _watchedInOrder = new(StringComparer.Ordinal);

    // When each gateway holding sessions last called: its sessions go when it falls silent.
    private readonly Dictionary<string, DateTimeOffset> _gatewaysSeen = new(StringComparer.Ordinal);

    // Sessions ended here (kicked, or disconnected by their gateway) within the expiry, oldest first: a renewal's list or
    // an update sent before the socket closed, arriving after, must not bring one back (a second join and leave).
    private readonly HashSet<string> _ended = new(StringComparer.Ordinal);
    private readonly Queue<(string Session, DateTimeOffset At)> _endedOrder = new();

    // Reused by each change: the watched topics its patterns match, and whether the sub was a member of each before.
    private readonly Dictionary<string, bool> _touched = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    /// <summary>Index probes made so far: what a change costs, counted rather than timed.</summary>
    public long Probes => _probes + _members.Probes;

    private long _probes;

    /// <summary>Admits <paramref name="session"/> (or refreshes it) unless the customer holds <paramref name="limit"/> already.</summary>
    public bool Connect(SessionInfo session, int limit)
    {
        ArgumentNullException.ThrowIfNull(session);
        ExpireSilentGateways();
        Touch(session.Gateway);
        if (!_sessions.ContainsKey(session.Session) && _sessions.Count >= limit)
        {
            return false;
        }

        Put(session);
        return true;
    }

    /// <summary>A session's new topics or watches; ignored for a session that ended here.</summary>
    public void Update(SessionInfo session)
    {
        ArgumentNullException.ThrowIfNull(session);
        Touch(session.Gateway);
        if (!Ended(session.Session))
        {
            Put(session);
        }
    }

    public void Disconnect(string gateway, string session)
    {
        if (_sessions.TryGetValue(session, out var known) && known.Gateway == gateway)
        {
            Remove(known);
            End(session);
        }
    }

    /// <summary>Makes the sessions of <paramref name="gateway"/> what its list says (a reactivated grain learns them so).</summary>
    public void Sync(string gateway, IReadOnlyList<SessionInfo> sessions)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        Touch(gateway);
        var keep = new Dictionary<string, SessionInfo>(StringComparer.Ordinal);
        foreach (var session in sessions)
        {
            if (session.Gateway == gateway)
            {
                keep[session.Session] = session;
            }
        }

        foreach (var gone in _sessions.Values.Where(s => s.Gateway == gateway && !keep.ContainsKey(s.Session)).ToList())
        {
            Remove(gone);
        }

        foreach (var session in keep.Values)
        {
            if (!Ended(session.Session))
            {
                Put(session);
            }
        }
    }

    /// <summary>Ends a session on the operator's word; the caller tells its gateway to close the socket.</summary>
    public SessionInfo? Kick(string session)
    {
        if (!_sessions.TryGetValue(session, out var known))
        {
            return null;
        }

        Remove(known);
        End(session);
        return known;
    }

    public IReadOnlyList<SessionInfo> List()
    {
        ExpireSilentGateways();
        return [.. _sessions.Values.OrderBy(s => s.ConnectedAt)];
    }

    /// <summary>One member per <c>sub</c> with a session in <paramref name="topic"/>, with that session's info.</summary>
    public IReadOnlyList<PresenceMember> Presence(string topic)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ExpireSilentGateways();
        var members = new List<PresenceMember>();
        foreach (var sub in _members.Subs(topic).Order(StringComparer.Ordinal))
        {
            var member = _bySub[sub].Values.First(s => IsMember(s, topic));
            members.Add(new PresenceMember(sub, member.Info));
        }

        return members;
    }

    /// <summary>
    /// How many sessions of <paramref name="gateway"/> are held (sent back with each renewal). Every renewal also looks
    /// for silent gateways: live ones renew every few seconds, so a dead gateway's sessions go (and their leaves reach
    /// the watchers) within about the expiry.
    /// </summary>
    public int CountOf(string gateway)
    {
        if (_sessions.Count == 0)
        {
            return 0;
        }

        Touch(gateway);
        ExpireSilentGateways();
        var count = 0;
        foreach (var session in _sessions.Values)
        {
            count += session.Gateway == gateway ? 1 : 0;
        }

        return count;
    }

    private void Touch(string gateway) => _gatewaysSeen[gateway] = time.GetUtcNow();

    private void ExpireSilentGateways()
    {
        var now = time.GetUtcNow();
        foreach (var (gateway, seen) in _gatewaysSeen.ToList())
        {
            if (now - seen > expiry)
            {
                _gatewaysSeen.Remove(gateway);
                foreach (var session in _sessions.Values.Where(s => s.Gateway == gateway).ToList())
                {
                    Remove(session);
                }
            }
        }
    }

    private void End(string session)
    {
        ForgetEnded();
        if (_ended.Add(session))
        {
            _endedOrder.Enqueue((session, time.GetUtcNow()));
        }
    }

    private bool Ended(string session)
    {
        ForgetEnded();
        return _ended.Contains(session);
    }

    /// <summary>After the expiry no gateway still lists a session it closed: its renewals have caught up.</summary>
    private void ForgetEnded()
    {
        var now = time.GetUtcNow();
        while (_endedOrder.TryPeek(out var oldest) && now - oldest.At > expiry)
        {
            _ended.Remove(_endedOrder.Dequeue().Session);
        }
    }

    private void Put(SessionInfo session)
    {
        _sessions.TryGetValue(session.Session, out var before);
        Change(before, session);
    }

    private void Remove(SessionInfo session) => Change(session, null);

    /// <summary>
    /// One session goes from <paramref name="before"/> to <paramref name="after"/> (null: absent). Only the watched
    /// topics its own patterns match can see its sub join or leave; each of those is announced when the sub's membership
    /// differs after the change.
    /// </summary>
    private void Change(SessionInfo? before, SessionInfo? after)
    {
        if (before is not null && after is not null && before.Sub != after.Sub)
        {
            // Another member altogether: the old one leaves, then the new one joins. The old watches stay until both are
            // announced, so a gateway whose only watcher is this session hears the leave too.
            Watch(before, +1);
            Change(before, null);
            Change(null, after);
            Watch(before, -1);
            return;
        }

        var changed = (after ?? before)!;
        var sub = changed.Sub;

        // Watches first, so a topic this session starts watching is among those it is announced in.
        if (after is not null)
        {
            Watch(after, +1);
        }

        _touched.Clear();
        Touch(before, sub);
        Touch(after, sub);

        if (before is not null)
        {
            _members.Hold(before, -1);
            Watch(before, -1);
            _sessions.Remove(before.Session);
            var ofSub = _bySub[sub];
            ofSub.Remove(before.Session);
            if (ofSub.Count == 0)
            {
                _bySub.Remove(sub);
            }
        }

        if (after is not null)
        {
            _members.Hold(after, +1);
            _sessions[after.Session] = after;
            if (!_bySub.TryGetValue(sub, out var ofSub))
            {
                _bySub[sub] = ofSub = new Dictionary<string, SessionInfo>(1, StringComparer.Ordinal);   // most subs hold one session
            }

            ofSub[after.Session] = after;
        }

        foreach (var (topic, was) in _touched)
        {
            if (_watched.TryGetValue(topic, out var gateways) && _members.IsMember(sub, topic) is var now && now != was)
            {
                announce(new PresenceNotice(topic, now, new PresenceMember(sub, changed.Info), gateways.Keys));
            }
        }
    }

    /// <summary>Notes each watched topic <paramref name="session"/>'s patterns match, with the sub's membership before.</summary>
    private void Touch(SessionInfo? session, string sub)
    {
        if (session is null || _watched.Count == 0)
        {
            return;
        }

        foreach (var pattern in session.Topics)
        {
            if (!pattern.EndsWith('*'))
            {
                if (_watched.ContainsKey(pattern))
                {
                    _touched.TryAdd(pattern, _members.IsMember(sub, pattern));
                }

                continue;
            }

            var prefix = pattern[..^1];
            foreach (var topic in _watchedInOrder.GetViewBetween(prefix, prefix + char.MaxValue))
            {
                _probes++;
                if (topic.StartsWith(prefix, StringComparison.Ordinal))
                {
                    _touched.TryAdd(topic, _members.IsMember(sub, topic));
                }
            }
        }
    }

    private void Watch(SessionInfo session, int delta)
    {
        foreach (var topic in session.Watching.Distinct(StringComparer.Ordinal))
        {
            if (!_watched.TryGetValue(topic, out var gateways))
            {
                _watched[topic] = gateways = new(StringComparer.Ordinal);
                _watchedInOrder.Add(topic);
            }

            var count = gateways.GetValueOrDefault(session.Gateway) + delta;
            if (count > 0)
            {
                gateways[session.Gateway] = count;
            }
            else
            {
                gateways.Remove(session.Gateway);
                if (gateways.Count == 0)
                {
                    _watched.Remove(topic);
                    _watchedInOrder.Remove(topic);
                }
            }
        }
    }

    /// <summary>A session is a member of a topic when one of its patterns matches it (<c>chat.*</c> is in <c>chat.room1</c>).</summary>
    private static bool IsMember(SessionInfo session, string topic) => session.Topics.Any(t => TopicPatterns.Matches(t, topic));
}
