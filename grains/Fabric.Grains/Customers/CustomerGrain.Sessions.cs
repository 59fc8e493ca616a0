using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>
/// The customer's socket sessions on every gateway: admitted here (the per-customer connection limit), listed for
/// operators, closed on request, and the source of presence. In memory only: a reactivated grain learns them again from
/// each gateway's next renewal (<see cref="Registration.Sessions"/> tells a gateway its count differs). Sessions of a
/// gateway that stops calling expire with <see cref="CustomerOptions.ObserverExpiry"/>. Every method here completes in
/// one turn, so no other call sees a session half changed.
/// </summary>
internal sealed partial class CustomerGrain
{
    private readonly Dictionary<string, SessionInfo> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<SessionInfo>> _sessionsBySub = new(StringComparer.Ordinal);

    // When each gateway holding sessions last called: its sessions go when it falls silent.
    private readonly Dictionary<string, DateTimeOffset> _sessionGateways = new(StringComparer.Ordinal);

    // Watched topic → gateway → how many of its sessions watch it: where joins and leaves go.
    private readonly Dictionary<string, Dictionary<string, int>> _watched = new(StringComparer.Ordinal);

    // Sessions ended here (kicked, or disconnected by their gateway) within ObserverExpiry, oldest first: a renewal's
    // list or an update sent before the socket closed, arriving after, must not bring one back (a second join and leave).
    private readonly HashSet<string> _ended = new(StringComparer.Ordinal);
    private readonly Queue<(string Session, DateTimeOffset At)> _endedOrder = new();

    public Task<SessionAdmission> Connect(SessionInfo session, int limit)
    {
        ArgumentNullException.ThrowIfNull(session);
        ExpireSilentGateways();
        TouchGateway(session.Gateway);
        if (!_sessions.ContainsKey(session.Session) && _sessions.Count >= limit)
        {
            return Task.FromResult(new SessionAdmission(false, _sessions.Count, _epoch));
        }

        Put(session);
        return Task.FromResult(new SessionAdmission(true, _sessions.Count, _epoch));
    }

    public Task UpdateSession(SessionInfo session)
    {
        ArgumentNullException.ThrowIfNull(session);
        TouchGateway(session.Gateway);
        if (!Ended(session.Session))
        {
            Put(session);
        }

        return Task.CompletedTask;
    }

    public Task Disconnect(string gatewayId, string session)
    {
        if (_sessions.TryGetValue(session, out var known) && known.Gateway == gatewayId)
        {
            Remove(known);
            End(session);
        }

        return Task.CompletedTask;
    }

    public Task SyncSessions(string gatewayId, IReadOnlyList<SessionInfo> sessions)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        TouchGateway(gatewayId);
        var keep = sessions.Where(s => s.Gateway == gatewayId).ToDictionary(s => s.Session, StringComparer.Ordinal);
        foreach (var gone in _sessions.Values.Where(s => s.Gateway == gatewayId && !keep.ContainsKey(s.Session)).ToList())
        {
            Remove(gone);
        }

        foreach (var session in keep.Values.Where(s => !Ended(s.Session)))
        {
            Put(session);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<SessionInfo>> GetSessions()
    {
        ExpireSilentGateways();
        return Task.FromResult<IReadOnlyList<SessionInfo>>([.. _sessions.Values.OrderBy(s => s.ConnectedAt)]);
    }

    public Task<IReadOnlyList<PresenceMember>> GetPresence(string topic)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ExpireSilentGateways();
        var members = new List<PresenceMember>();
        foreach (var (sub, sessions) in _sessionsBySub)
        {
            if (sessions.FirstOrDefault(s => IsMember(s, topic)) is { } member)
            {
                members.Add(new PresenceMember(sub, member.Info));
            }
        }

        return Task.FromResult<IReadOnlyList<PresenceMember>>(members);
    }

    public Task<bool> Kick(string session)
    {
        if (!_sessions.TryGetValue(session, out var known))
        {
            return Task.FromResult(false);
        }

        Remove(known);
        End(session);
        if (_gateways.Observers.TryGetValue(known.Gateway, out var gateway))
        {
            // One-way: the gateway closes the socket with "disconnected by the operator"; the entry is gone already.
            _ = gateway.OnKick(Customer, session);
        }

        return Task.FromResult(true);
    }

    /// <summary>
    /// How many sessions of <paramref name="gatewayId"/> this activation holds (sent back with each renewal). Every
    /// renewal also looks for silent gateways: the live ones renew every few seconds, so a dead gateway's sessions go
    /// (and their <c>leave</c>s reach the watchers) within about <see cref="CustomerOptions.ObserverExpiry"/>.
    /// </summary>
    private int SessionsOf(string gatewayId)
    {
        if (_sessions.Count > 0)
        {
            TouchGateway(gatewayId);
            ExpireSilentGateways();
        }

        return _sessions.Values.Count(s => s.Gateway == gatewayId);
    }

    private void End(string session)
    {
        ForgetEnded();
        if (_ended.Add(session))
        {
            _endedOrder.Enqueue((session, _time.GetUtcNow()));
        }
    }

    private bool Ended(string session)
    {
        ForgetEnded();
        return _ended.Contains(session);
    }

    /// <summary>After ObserverExpiry no gateway still lists a session it closed: its renewals have caught up.</summary>
    private void ForgetEnded()
    {
        var now = _time.GetUtcNow();
        while (_endedOrder.TryPeek(out var oldest) && now - oldest.At > _options.ObserverExpiry)
        {
            _ended.Remove(_endedOrder.Dequeue().Session);
        }
    }

    private void TouchGateway(string gatewayId) => _sessionGateways[gatewayId] = _time.GetUtcNow();

    private void ExpireSilentGateways()
    {
        var now = _time.GetUtcNow();
        foreach (var (gateway, seen) in _sessionGateways.ToList())
        {
            if (now - seen > _options.ObserverExpiry)
            {
                _sessionGateways.Remove(gateway);
                foreach (var session in _sessions.Values.Where(s => s.Gateway == gateway).ToList())
                {
                    Remove(session);
                }
            }
        }
    }

    private void Put(SessionInfo session)
    {
        _sessions.TryGetValue(session.Session, out var before);
        if (before is not null)
        {
            Unindex(before);
        }

        _sessions[session.Session] = session;
        if (!_sessionsBySub.TryGetValue(session.Sub, out var ofSub))
        {
            _sessionsBySub[session.Sub] = ofSub = new List<SessionInfo>(1);   // most subs hold one session
        }

        ofSub.Add(session);
        Watch(session, +1);
        Announce(session.Sub, before, session);
    }

    private void Remove(SessionInfo session)
    {
        _sessions.Remove(session.Session);
        Unindex(session);
        Announce(session.Sub, session, null);
    }

    private void Unindex(SessionInfo session)
    {
        if (_sessionsBySub.TryGetValue(session.Sub, out var ofSub))
        {
            ofSub.RemoveAll(s => s.Session == session.Session);
            if (ofSub.Count == 0)
            {
                _sessionsBySub.Remove(session.Sub);
            }
        }

        Watch(session, -1);
    }

    private void Watch(SessionInfo session, int delta)
    {
        foreach (var topic in session.Watching.Distinct(StringComparer.Ordinal))
        {
            if (!_watched.TryGetValue(topic, out var gateways))
            {
                _watched[topic] = gateways = new(StringComparer.Ordinal);
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
                }
            }
        }
    }

    /// <summary>
    /// After one session of <paramref name="sub"/> changed from <paramref name="before"/> to <paramref name="after"/>
    /// (null: absent), tells the gateways watching each topic whether the <c>sub</c> joined or left it. A member is a
    /// <c>sub</c>, not a session: a second tab joins nothing, and closing one of two tabs leaves nothing.
    /// </summary>
    private void Announce(string sub, SessionInfo? before, SessionInfo? after)
    {
        if (_watched.Count == 0)
        {
            return;
        }

        _sessionsBySub.TryGetValue(sub, out var ofSub);
        foreach (var (topic, gateways) in _watched)
        {
            var others = ofSub?.Any(s => s.Session != (after ?? before)!.Session && IsMember(s, topic)) ?? false;
            var was = others || (before is not null && IsMember(before, topic));
            var now = others || (after is not null && IsMember(after, topic));
            if (was == now)
            {
                continue;
            }

            var change = new PresenceChange(Customer, topic, now, new PresenceMember(sub, (after ?? before)!.Info));
            foreach (var gateway in gateways.Keys)
            {
                if (_gateways.Observers.TryGetValue(gateway, out var observer))
                {
                    _ = observer.OnPresence(change);
                }
            }
        }
    }

    /// <summary>A session is a member of a topic when one of its topics matches it (<c>chat.*</c> is in <c>chat.room1</c>).</summary>
    private static bool IsMember(SessionInfo session, string topic) => session.Topics.Any(t => TopicPatterns.Matches(t, topic));
}
