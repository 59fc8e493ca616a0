using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>
/// Which gateways hold this customer's sockets: registered with generations (so reordered calls cannot undo newer
/// ones) and persisted, so that a reactivated grain pushes to them at once. A renewal carries the gateway's last
/// received event, a witness that reveals a log that went back.
/// </summary>
internal sealed partial class CustomerGrain
{
    public async Task<Registration> Subscribe(string gatewayId, long generation, IGatewayObserver observer, LogPosition? released)
    {
        ArgumentException.ThrowIfNullOrEmpty(gatewayId);
        if (released is not null && released.Epoch == _epoch.Id && WentBack(released))
        {
            await ForkAsync(released.Seq);
        }

        if (_gatewayGenerations.TryGetValue(gatewayId, out var known) && known > generation)
        {
            return new Registration(_head.LastSeq, _epoch, _sessions.CountOf(gatewayId));
        }

        _gatewayGenerations[gatewayId] = generation;
        _gateways.Subscribe(gatewayId, observer);
        // Every newer generation is kept, renewals included: after a reactivation, a delayed Unsubscribe older than the
        // last Subscribe must still lose against it.
        if (!_registrations.State.Gateways.TryGetValue(gatewayId, out var saved) || saved.Generation < generation)
        {
            _registrations.State.Gateways[gatewayId] = new GatewayRegistration(generation, observer);
            await SaveRegistrationsAsync();
        }

        return new Registration(_head.LastSeq, _epoch, _sessions.CountOf(gatewayId));
    }

    /// <summary>
    /// A gateway received <paramref name="released"/> from this epoch. The log went back when that seq is beyond what
    /// this activation has handed out, or when this activation handed the seq out again with another event (it
    /// started from a head that had lost it). Seqs up to where this activation started are not in doubt.
    /// </summary>
    private bool WentBack(LogPosition released) =>
        released.Seq > _assignedSeq
        || (released.Seq > _activationSeq && released.EventId is not null && _recent.TryGet(released.Seq, out var id) && id != released.EventId);

    /// <summary>
    /// Starts a new epoch forking where this activation began: every seq above it may have named another event for
    /// someone, so readers holding one start again from there.
    /// </summary>
    private async Task ForkAsync(long witnessed)
    {
        var next = LogEpoch.New(_activationSeq, _epoch);
        Log.LogWentBack(_logger, Customer, witnessed, next.Base);
        GrainsTelemetry.EpochForks.Add(1);
        _epoch = await _log.ForkAsync(Customer, _epoch, next);
    }

    public async Task Unsubscribe(string gatewayId, long generation)
    {
        // A late Unsubscribe must not undo a newer Subscribe from the same gateway (calls may be reordered).
        // The generation stays behind as a tombstone, so a Subscribe overtaken by this Unsubscribe is ignored too.
        if (!_gatewayGenerations.TryGetValue(gatewayId, out var known) || known <= generation)
        {
            _gatewayGenerations[gatewayId] = generation;
            _gateways.Unsubscribe(gatewayId);
            if (_registrations.State.Gateways.Remove(gatewayId))
            {
                await SaveRegistrationsAsync();
            }
        }
    }

    /// <summary>
    /// Best effort: the in-memory registration already works; a failed write (Redis down) only means a reactivated
    /// grain waits for the gateway's next renewal, as it would without the state.
    /// </summary>
    private async Task SaveRegistrationsAsync()
    {
        // One write at a time (the grain is reentrant, and overlapping writes would trip the storage's etag check);
        // a change made during a write is saved by the same loop right after.
        if (_savingRegistrations)
        {
            _saveRegistrationsAgain = true;
            return;
        }

        _savingRegistrations = true;
        try
        {
            do
            {
                _saveRegistrationsAgain = false;

                // Gateways that stopped renewing go from the state too, so it does not grow with every gateway restart.
                _gateways.ClearExpired();
                var live = _gateways.Observers.Keys.ToHashSet(StringComparer.Ordinal);
                foreach (var stale in _registrations.State.Gateways.Keys.Where(id => !live.Contains(id)).ToList())
                {
                    _registrations.State.Gateways.Remove(stale);
                }

                if (_registrations.State.Gateways.Count > 0)
                {
                    await _registrations.WriteStateAsync();
                }
                else if (_registrations.RecordExists)
                {
                    // The last gateway left: the record goes, rather than staying behind empty.
                    await _registrations.ClearStateAsync();
                }
            }
            while (_saveRegistrationsAgain);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RegistrationsNotSaved(_logger, ex, Customer);
        }
        finally
        {
            _savingRegistrations = false;
        }
    }

    private bool _savingRegistrations;
    private bool _saveRegistrationsAgain;
}
