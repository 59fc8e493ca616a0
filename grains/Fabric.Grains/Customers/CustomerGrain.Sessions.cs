using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>
/// The customer's socket sessions on every gateway (<see cref="SessionTable"/>): admitted here (the per-customer
/// connection limit), listed for operators, closed on request, and the source of presence. In memory only: a reactivated
/// grain learns them again from each gateway's next renewal (<see cref="Registration.Sessions"/> tells a gateway its
/// count differs). Sessions of a gateway that stops calling expire with <see cref="CustomerOptions.ObserverExpiry"/>.
/// </summary>
internal sealed partial class CustomerGrain
{
    public Task<SessionAdmission> Connect(SessionInfo session, int limit)
    {
        var admitted = _sessions.Connect(session, limit);
        return Task.FromResult(new SessionAdmission(admitted, _sessions.Count, _epoch));
    }

    public Task UpdateSession(SessionInfo session)
    {
        _sessions.Update(session);
        return Task.CompletedTask;
    }

    public Task Disconnect(string gatewayId, string session)
    {
        _sessions.Disconnect(gatewayId, session);
        return Task.CompletedTask;
    }

    public Task SyncSessions(string gatewayId, IReadOnlyList<SessionInfo> sessions)
    {
        _sessions.Sync(gatewayId, sessions);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<SessionInfo>> GetSessions() => Task.FromResult(_sessions.List());

    public Task<IReadOnlyList<PresenceMember>> GetPresence(string topic) => Task.FromResult(_sessions.Presence(topic));

    public Task<bool> Kick(string session)
    {
        if (_sessions.Kick(session) is not { } known)
        {
            return Task.FromResult(false);
        }

        if (_gateways.Observers.TryGetValue(known.Gateway, out var gateway))
        {
            // One-way: the gateway closes the socket with "disconnected by the operator"; the entry is gone already.
            _ = gateway.OnKick(Customer, session);
        }

        return Task.FromResult(true);
    }

    /// <summary>Tells the gateways watching a topic that a member joined or left it (one-way).</summary>
    private void Announce(PresenceNotice notice)
    {
        var change = new PresenceChange(Customer, notice.Topic, notice.Joined, notice.Member);
        foreach (var gateway in notice.Gateways)
        {
            if (_gateways.Observers.TryGetValue(gateway, out var observer))
            {
                _ = observer.OnPresence(change);
            }
        }
    }
}
