using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Grains.Log;
using Fabric.Grains.Transforms;
using Fabric.Wasm;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Utilities;

namespace Fabric.Grains.Customers;

/// <summary>
/// Orders, de-duplicates and keeps one customer's events, then pushes them to the gateways that hold the customer's
/// sockets and publishes them on the customer's Orleans stream.
/// </summary>
/// <remarks>
/// Reentrant so that appends can share log writes (group commit, see <c>CustomerGrain.Commit.cs</c>): seqs are handed
/// out synchronously within a turn, so order does not depend on the interleaving; everything else reads committed
/// state only.
/// </remarks>
[Reentrant]
internal sealed partial class CustomerGrain : Grain, ICustomerGrain, IRemindable
{
    private readonly IEventLog _log;
    private readonly CustomerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<CustomerGrain> _logger;
    private readonly ObserverManager<string, IGatewayObserver> _gateways;
    private readonly Dictionary<string, long> _gatewayGenerations = new(StringComparer.Ordinal);
    private readonly IdempotencyWindow _idempotency;
    private readonly IPersistentState<GatewayRegistrations> _registrations;
    private readonly IPersistentState<EndpointRegistrations> _endpoints;
    private readonly IPersistentState<SourceTransforms> _transformState;
    private readonly WasmRuntime _wasm;
    private readonly StreamConsumers _streamConsumers;
    private readonly SessionTable _sessions;
    private LogHead _head = LogHead.Empty;
    private LogEpoch _epoch = LogEpoch.New(0);

    // The head this activation started from: seqs above it were handed out by this activation.
    private long _activationSeq;

    public CustomerGrain(
        [PersistentState("gateways")] IPersistentState<GatewayRegistrations> registrations,
        [PersistentState("endpoints")] IPersistentState<EndpointRegistrations> endpoints,
        [PersistentState("transforms")] IPersistentState<SourceTransforms> transforms,
        IEventLog log,
        WasmRuntime wasm,
        StreamConsumers streamConsumers,
        IOptions<CustomerOptions> options,
        [FromKeyedServices(FabricTime.Key)] TimeProvider time,
        ILogger<CustomerGrain> logger)
    {
        _registrations = registrations;
        _endpoints = endpoints;
        _transformState = transforms;
        _wasm = wasm;
        _streamConsumers = streamConsumers;
        _log = log;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _gateways = new ObserverManager<string, IGatewayObserver>(_options.ObserverExpiry, logger)
        {
            GetDateTime = () => _time.GetUtcNow().UtcDateTime,
        };
        _idempotency = new IdempotencyWindow(_options.IdempotencyWindow, _options.IdempotencyMaxKeys);
        _sessions = new SessionTable(_time, _options.ObserverExpiry, Announce);
    }

    private string Customer => _customer ??= this.GetPrimaryKeyString();

    private string? _customer;

    /// <summary>
    /// Reads only the log's head (a few small keys, whatever the log holds): the idempotency keys wait for the first
    /// append that needs them, and the retention reminder is looked at after a write, not here. A history read or a
    /// socket for a quiet customer costs one small read; a stranger (never appended) leaves nothing behind.
    /// </summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var (gatewayId, registration) in _registrations.State.Gateways)
        {
            // Restored as if just renewed: a gateway that is gone drops out after ObserverExpiry, as usual.
            _gatewayGenerations[gatewayId] = registration.Generation;
            _gateways.Subscribe(gatewayId, registration.Observer);
        }

        _head = await _log.ReadHeadAsync(Customer, cancellationToken);
        _assignedSeq = _head.LastSeq;
        _activationSeq = _head.LastSeq;
        // A log that never stored an epoch gets one with its first append; until then any id will do, since nothing
        // above its last seq was handed out under another.
        _epoch = _head.Epoch ?? LogEpoch.New(_head.LastSeq);
        _lastTrim = _time.GetUtcNow();
        await LoadTransformsAsync();
        Log.Activated(_logger, Customer, _head.LastSeq);
    }

    public Task<EventPage> GetSince(long afterSeq, int max) => ReadPageAsync(Math.Clamp(afterSeq, 0, long.MaxValue - 1), Math.Clamp(max, 0, _options.PageMax));

    /// <summary>
    /// One page, bounded by count and by bytes (<see cref="CustomerOptions.PageMaxBytes"/>; at least one event). Never
    /// trims: retention runs after writes and on the sweep, so a read costs one read.
    /// </summary>
    private async Task<EventPage> ReadPageAsync(long afterSeq, int max)
    {
        var events = max == 0 || afterSeq >= _head.LastSeq ? [] : await _log.ReadAsync(Customer, afterSeq, max, _options.PageMaxBytes);
        // Complete when nothing between afterSeq and the oldest retained event was dropped. The events themselves say so
        // when there are any: the head may lag a trim that was running while they were read.
        var first = events.Count > 0 ? Math.Max(_head.FirstRetainedSeq, events[0].Seq) : _head.FirstRetainedSeq;
        var complete = events.Count > 0 ? events[0].Seq == afterSeq + 1 : afterSeq >= first - 1;
        return new EventPage(events, first, _head.LastSeq, complete, _epoch);
    }

    /// <summary>The retention sweep: trims a quiet customer's log by age; once the log is empty the reminder goes.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await TrimAsync(_time.GetUtcNow(), keys: true);
        await KeepRetentionSweepAsync();

        // A backstop for a lost one-way notice: an endpoint behind the log's end hears of it at least once a sweep.
        NotifyEndpoints(_head.LastSeq);
    }

    /// <summary>
    /// A customer with retained events keeps a reminder (it outlives this activation and, in distributed mode, this
    /// silo); one without events does not, so idle customers cost nothing.
    /// </summary>
    private async Task KeepRetentionSweepAsync()
    {
        try
        {
            var hasEvents = _head.FirstRetainedSeq <= _head.LastSeq;
            var reminder = await this.GetReminder(RetentionReminder);
            if (hasEvents && reminder is null)
            {
                await this.RegisterOrUpdateReminder(RetentionReminder, _options.RetentionSweepInterval, _options.RetentionSweepInterval);
            }
            else if (!hasEvents && reminder is not null)
            {
                await this.UnregisterReminder(reminder);
            }

            _sweepKept = hasEvents;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Best effort: without the sweep, retention still applies at the next append.
            Log.SweepFailed(_logger, ex, Customer);
        }
    }

    private const string RetentionReminder = "retention";

    /// <summary>
    /// Best effort: a failed trim leaves extra history behind, never an acknowledged event unacknowledged. The keys'
    /// store is trimmed at most once a second (and by the retention sweep).
    /// </summary>
    private async Task TrimAsync(DateTimeOffset now, bool keys = false)
    {
        _lastTrim = now;
        try
        {
            var head = await _log.TrimAsync(Customer, Limits(now));
            // A write may have committed while the trim was on its way (the grain is reentrant): seqs only grow.
            _head = _head with { FirstRetainedSeq = Math.Max(_head.FirstRetainedSeq, head.FirstRetainedSeq), LastSeq = Math.Max(_head.LastSeq, head.LastSeq) };
            if (keys && now - _lastKeyTrim >= TimeSpan.FromSeconds(1))
            {
                _lastKeyTrim = now;
                await _log.TrimKeysAsync(Customer, now - _options.IdempotencyWindow, _options.IdempotencyMaxKeys);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.TrimFailed(_logger, ex, Customer);
        }
    }

    private DateTimeOffset _lastKeyTrim;

    /// <summary>
    /// The keys come from the log's own key store, not from retained events: a Stripe retry three days later must
    /// still find its first delivery after the event itself has aged out, a reactivation, or (in distributed mode) the
    /// loss of the silo. Loaded by the first append that carries a key, not at activation: readers never pay for them.
    /// </summary>
    private Task EnsureKeysAsync()
    {
        if (_keysLoading is { IsCompletedSuccessfully: true })
        {
            return Task.CompletedTask;
        }

        if (_keysLoading is null || _keysLoading.IsFaulted || _keysLoading.IsCanceled)
        {
            _keysLoading = LoadKeysAsync();
        }

        return _keysLoading;
    }

    private async Task LoadKeysAsync()
    {
        var now = _time.GetUtcNow();
        foreach (var remembered in await _log.ReadKeysAsync(Customer, now - _options.IdempotencyWindow, _options.IdempotencyMaxKeys))
        {
            _idempotency.Remember(remembered);
        }

        Log.KeysLoaded(_logger, Customer, _idempotency.Count);
    }

    private Task? _keysLoading;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Customer {Customer} activated at seq {Seq}")]
        public static partial void Activated(ILogger logger, string customer, long seq);

        [LoggerMessage(7, LogLevel.Debug, "Customer {Customer} loaded {Keys} idempotency keys")]
        public static partial void KeysLoaded(ILogger logger, string customer, int keys);

        [LoggerMessage(8, LogLevel.Warning, "Customer {Customer}: the log is behind seq {Seq}, which a gateway had received; forked to a new epoch at {Base}")]
        public static partial void LogWentBack(ILogger logger, string customer, long seq, long @base);

        [LoggerMessage(9, LogLevel.Warning, "Customer {Customer}: {Count} events were not published on the Orleans stream (backlog full; at most one such warning per 10 s)")]
        public static partial void StreamOverflow(ILogger logger, string customer, long count);

        [LoggerMessage(3, LogLevel.Warning, "Trimming the log of customer {Customer} failed")]
        public static partial void TrimFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(6, LogLevel.Warning, "Saving the gateway registrations of customer {Customer} failed")]
        public static partial void RegistrationsNotSaved(ILogger logger, Exception exception, string customer);

        [LoggerMessage(5, LogLevel.Warning, "Keeping the retention reminder of customer {Customer} failed")]
        public static partial void SweepFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(4, LogLevel.Warning, "Writing {Count} events to the log of customer {Customer} failed; the activation will be replaced")]
        public static partial void AppendFailed(ILogger logger, Exception exception, string customer, int count);

        [LoggerMessage(10, LogLevel.Warning, "Customer {Customer}: the transform of source {Source} ({Hash}) could not be loaded; its events pass unchanged")]
        public static partial void TransformNotLoaded(ILogger logger, Exception exception, string customer, string source, string hash);

        [LoggerMessage(11, LogLevel.Information, "Customer {Customer}: transform {Hash} attached to source {Source}")]
        public static partial void TransformAttached(ILogger logger, string customer, string source, string hash);

        [LoggerMessage(2, LogLevel.Warning, "Publishing event {Seq} of customer {Customer} to its stream failed")]
        public static partial void StreamPublishFailed(ILogger logger, Exception exception, string customer, long seq);
    }
}
