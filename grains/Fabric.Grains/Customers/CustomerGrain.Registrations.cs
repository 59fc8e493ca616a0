using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>
/// Which gateways hold this customer's sockets: registered with generations (so reordered calls cannot undo newer
/// ones) and persisted, so that a reactivated grain pushes to them at once.
/// </summary>
internal sealed partial class CustomerGrain
{
    public async Task<long> Subscribe(string gatewayId, long generation, IGatewayObserver observer)
    {
        ArgumentException.ThrowIfNullOrEmpty(gatewayId);
        if (_gatewayGenerations.TryGetValue(gatewayId, out var known) && known > generation)
        {
            return _head.LastSeq;
        }

        _gatewayGenerations[gatewayId] = generation;
        _gateways.Subscribe(gatewayId, observer);
        if (!_registrations.State.Gateways.ContainsKey(gatewayId))
        {
            _registrations.State.Gateways[gatewayId] = new GatewayRegistration(generation, observer);
            await SaveRegistrationsAsync();
        }

        return _head.LastSeq;
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

                await _registrations.WriteStateAsync();
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
