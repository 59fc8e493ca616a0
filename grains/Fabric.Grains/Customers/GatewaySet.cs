using Fabric.Contracts;
using Microsoft.Extensions.Logging;
using Orleans.Utilities;

namespace Fabric.Grains.Customers;

/// <summary>
/// Which gateways hold this customer's sockets: registered with generations (so reordered calls cannot undo newer
/// ones) and persisted, so that a reactivated grain pushes to them at once. A gateway that stops renewing drops out
/// after <see cref="CustomerOptions.ObserverExpiry"/>.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed partial class GatewaySet
{
    private readonly IPersistentState<GatewayRegistrations> _state;
    private readonly string _customer;
    private readonly ILogger _logger;
    private readonly Dictionary<string, long> _generations = new(StringComparer.Ordinal);
    private bool _saving;
    private bool _saveAgain;

    public GatewaySet(IPersistentState<GatewayRegistrations> state, TimeSpan expiry, TimeProvider time, string customer, ILogger logger)
    {
        _state = state;
        _customer = customer;
        _logger = logger;
        Observers = new ObserverManager<string, IGatewayObserver>(expiry, logger) { GetDateTime = () => time.GetUtcNow().UtcDateTime };
    }

    /// <summary>The live gateways, by id.</summary>
    public ObserverManager<string, IGatewayObserver> Observers { get; }

    /// <summary>The saved registrations, as if just renewed: a gateway that is gone drops out after the expiry, as usual.</summary>
    public void Restore()
    {
        foreach (var (gatewayId, registration) in _state.State.Gateways)
        {
            _generations[gatewayId] = registration.Generation;
            Observers.Subscribe(gatewayId, registration.Observer);
        }
    }

    public bool TryGet(string gatewayId, out IGatewayObserver observer) => Observers.Observers.TryGetValue(gatewayId, out observer!);

    /// <summary>Registers or renews a gateway, unless a newer generation of it was seen.</summary>
    public Task SubscribeAsync(string gatewayId, long generation, IGatewayObserver observer)
    {
        ArgumentException.ThrowIfNullOrEmpty(gatewayId);
        if (_generations.TryGetValue(gatewayId, out var known) && known > generation)
        {
            return Task.CompletedTask;
        }

        _generations[gatewayId] = generation;
        Observers.Subscribe(gatewayId, observer);
        // Every newer generation is kept, renewals included: after a reactivation, a delayed Unsubscribe older than the
        // last Subscribe must still lose against it.
        if (!_state.State.Gateways.TryGetValue(gatewayId, out var saved) || saved.Generation < generation)
        {
            _state.State.Gateways[gatewayId] = new GatewayRegistration(generation, observer);
            return SaveAsync();
        }

        return Task.CompletedTask;
    }

    public Task UnsubscribeAsync(string gatewayId, long generation)
    {
        // A late Unsubscribe must not undo a newer Subscribe from the same gateway (calls may be reordered). The
        // generation stays behind as a tombstone, so a Subscribe overtaken by this Unsubscribe is ignored too.
        if (!_generations.TryGetValue(gatewayId, out var known) || known <= generation)
        {
            _generations[gatewayId] = generation;
            Observers.Unsubscribe(gatewayId);
            if (_state.State.Gateways.Remove(gatewayId))
            {
                return SaveAsync();
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Best effort: the in-memory registration already works; a failed write (Redis down) only means a reactivated grain
    /// waits for the gateway's next renewal, as it would without the state.
    /// </summary>
    private async Task SaveAsync()
    {
        // One write at a time (overlapping writes would trip the storage's etag check); a change made during a write is
        // saved by the same loop right after.
        if (_saving)
        {
            _saveAgain = true;
            return;
        }

        _saving = true;
        try
        {
            do
            {
                _saveAgain = false;

                // Gateways that stopped renewing go from the state too, so it does not grow with every gateway restart.
                Observers.ClearExpired();
                var live = Observers.Observers.Keys.ToHashSet(StringComparer.Ordinal);
                foreach (var stale in _state.State.Gateways.Keys.Where(id => !live.Contains(id)).ToList())
                {
                    _state.State.Gateways.Remove(stale);
                }

                if (_state.State.Gateways.Count > 0)
                {
                    await _state.WriteStateAsync();
                }
                else if (_state.RecordExists)
                {
                    // The last gateway left: the record goes, rather than staying behind empty.
                    await _state.ClearStateAsync();
                }
            }
            while (_saveAgain);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RegistrationsNotSaved(_logger, ex, _customer);
        }
        finally
        {
            _saving = false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(6, LogLevel.Warning, "Saving the gateway registrations of customer {Customer} failed")]
        public static partial void RegistrationsNotSaved(ILogger logger, Exception exception, string customer);
    }
}
