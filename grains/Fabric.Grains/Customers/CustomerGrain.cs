using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Grains.Log;
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
    private LogHead _head = LogHead.Empty;

    public CustomerGrain(
        [PersistentState("gateways")] IPersistentState<GatewayRegistrations> registrations,
        IEventLog log,
        IOptions<CustomerOptions> options,
        [FromKeyedServices(FabricTime.Key)] TimeProvider time,
        ILogger<CustomerGrain> logger)
    {
        _registrations = registrations;
        _log = log;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _gateways = new ObserverManager<string, IGatewayObserver>(_options.ObserverExpiry, logger)
        {
            GetDateTime = () => _time.GetUtcNow().UtcDateTime,
        };
        _idempotency = new IdempotencyWindow(_options.IdempotencyWindow, _options.IdempotencyMaxKeys);
    }

    private string Customer => this.GetPrimaryKeyString();

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
        _lastTrim = _time.GetUtcNow();
        await RestoreIdempotencyWindowAsync(cancellationToken);
        await KeepRetentionSweepAsync();
        // Interleaving: a push need not wait behind an append that is awaiting its log write.
        _pushTimer = this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { Interleave = true });
        Log.Activated(_logger, Customer, _head.LastSeq, _idempotency.Count);
    }

    public async Task<EventPage> GetSince(long afterSeq, int max)
    {
        await TrimAsync(_time.GetUtcNow());
        var take = Math.Clamp(max, 0, _options.PageMax);
        var events = take == 0 ? [] : await _log.ReadAsync(Customer, Math.Max(afterSeq, 0), take);
        // Complete when nothing between afterSeq and the oldest retained event was dropped.
        var complete = afterSeq >= _head.FirstRetainedSeq - 1;
        return new EventPage(events, _head.FirstRetainedSeq, _head.LastSeq, complete);
    }

    /// <summary>The retention sweep: trims a quiet customer's log by age; once the log is empty the reminder goes.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await TrimAsync(_time.GetUtcNow(), keys: true);
        await KeepRetentionSweepAsync();
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
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Best effort: without the sweep, retention still applies at the next append or read.
            Log.SweepFailed(_logger, ex, Customer);
        }
    }

    private const string RetentionReminder = "retention";

    /// <summary>
    /// Best effort: a failed trim leaves extra history behind, never an acknowledged event unacknowledged. The keys'
    /// store is trimmed at most once a second (and by the retention sweep), never on a history read.
    /// </summary>
    private async Task TrimAsync(DateTimeOffset now, bool keys = false)
    {
        _lastTrim = now;
        try
        {
            var head = await _log.TrimAsync(Customer, _options.RetentionMaxEvents, now - _options.RetentionMaxAge);
            // A write may have committed while the trim was on its way (the grain is reentrant): seqs only grow.
            _head = new LogHead(Math.Max(_head.FirstRetainedSeq, head.FirstRetainedSeq), Math.Max(_head.LastSeq, head.LastSeq));
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
    /// loss of the silo.
    /// </summary>
    private async Task RestoreIdempotencyWindowAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var remembered in await _log.ReadKeysAsync(Customer, now - _options.IdempotencyWindow, _options.IdempotencyMaxKeys, cancellationToken))
        {
            _idempotency.Remember(remembered);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Customer {Customer} activated at seq {Seq} with {Keys} idempotency keys")]
        public static partial void Activated(ILogger logger, string customer, long seq, int keys);

        [LoggerMessage(3, LogLevel.Warning, "Trimming the log of customer {Customer} failed")]
        public static partial void TrimFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(6, LogLevel.Warning, "Saving the gateway registrations of customer {Customer} failed")]
        public static partial void RegistrationsNotSaved(ILogger logger, Exception exception, string customer);

        [LoggerMessage(5, LogLevel.Warning, "Keeping the retention reminder of customer {Customer} failed")]
        public static partial void SweepFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(4, LogLevel.Warning, "Writing {Count} events to the log of customer {Customer} failed; the activation will be replaced")]
        public static partial void AppendFailed(ILogger logger, Exception exception, string customer, int count);

        [LoggerMessage(2, LogLevel.Warning, "Publishing event {Seq} of customer {Customer} to its stream failed")]
        public static partial void StreamPublishFailed(ILogger logger, Exception exception, string customer, long seq);
    }
}
