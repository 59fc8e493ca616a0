using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Grains.Log;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Utilities;

namespace Fabric.Grains.Customers;

/// <summary>
/// Orders, de-duplicates and keeps one customer's events, then pushes them to the gateways that hold the customer's
/// sockets and publishes them on the customer's Orleans stream.
/// </summary>
internal sealed partial class CustomerGrain : Grain, ICustomerGrain
{
    private readonly IEventLog _log;
    private readonly CustomerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<CustomerGrain> _logger;
    private readonly ObserverManager<string, IGatewayObserver> _gateways;
    private readonly Dictionary<string, long> _gatewayGenerations = new(StringComparer.Ordinal);
    private readonly IdempotencyWindow _idempotency;
    private LogHead _head = LogHead.Empty;

    public CustomerGrain(
        IEventLog log,
        IOptions<CustomerOptions> options,
        [FromKeyedServices(FabricTime.Key)] TimeProvider time,
        ILogger<CustomerGrain> logger)
    {
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
        _head = await _log.ReadHeadAsync(Customer, cancellationToken);
        await RebuildIdempotencyWindowAsync(cancellationToken);
        // Interleaving: a push need not wait behind an append that is awaiting its log write.
        _pushTimer = this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { Interleave = true });
        Log.Activated(_logger, Customer, _head.LastSeq, _idempotency.Count);
    }

    public async Task<AppendResult> Append(IncomingEvent incoming)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        using var activity = GrainsTelemetry.Source.StartActivity(GrainsTelemetry.AppendSpan);
        var now = _time.GetUtcNow();
        if (incoming.IdempotencyKey is { } key && _idempotency.TryGet(incoming.Source, key, now, out var first))
        {
            GrainsTelemetry.Duplicates.Add(1);
            activity?.SetTag("fabric.duplicate", true);
            return first;
        }

        var envelope = new EventEnvelope(
            Id: "evt_" + Guid.CreateVersion7(now).ToString("N"),
            Seq: _head.LastSeq + 1,
            Customer: Customer,
            Source: incoming.Source,
            Type: incoming.Type,
            Time: now,
            ContentType: incoming.ContentType,
            Data: incoming.Data,
            IdempotencyKey: incoming.IdempotencyKey,
            TraceParent: incoming.TraceParent ?? Activity.Current?.Id);

        // Kept first, acknowledged after: a failed append leaves the seq unassigned and the caller sees the error.
        await _log.AppendAsync(Customer, [envelope]);
        _head = _head with { LastSeq = envelope.Seq };
        _idempotency.Remember(envelope);
        EnqueuePush(envelope);
        await TrimAsync(now);
        GrainsTelemetry.Appended.Add(1);
        activity?.SetTag("fabric.seq", envelope.Seq);
        return new AppendResult(envelope.Id, envelope.Seq, false);
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

    public Task<long> Subscribe(string gatewayId, long generation, IGatewayObserver observer)
    {
        ArgumentException.ThrowIfNullOrEmpty(gatewayId);
        if (_gatewayGenerations.TryGetValue(gatewayId, out var known) && known > generation)
        {
            return Task.FromResult(_head.LastSeq);
        }

        _gatewayGenerations[gatewayId] = generation;
        _gateways.Subscribe(gatewayId, observer);
        return Task.FromResult(_head.LastSeq);
    }

    public Task Unsubscribe(string gatewayId, long generation)
    {
        // A late Unsubscribe must not undo a newer Subscribe from the same gateway (calls may be reordered).
        // The generation stays behind as a tombstone, so a Subscribe overtaken by this Unsubscribe is ignored too.
        if (!_gatewayGenerations.TryGetValue(gatewayId, out var known) || known <= generation)
        {
            _gatewayGenerations[gatewayId] = generation;
            _gateways.Unsubscribe(gatewayId);
        }

        return Task.CompletedTask;
    }

    /// <summary>Best effort: a failed trim leaves extra history behind, never an acknowledged event unacknowledged.</summary>
    private async Task TrimAsync(DateTimeOffset now)
    {
        try
        {
            _head = await _log.TrimAsync(Customer, _options.RetentionMaxEvents, now - _options.RetentionMaxAge);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.TrimFailed(_logger, ex, Customer);
        }
    }

    private async Task RebuildIdempotencyWindowAsync(CancellationToken cancellationToken)
    {
        var after = _head.FirstRetainedSeq - 1;
        while (after < _head.LastSeq)
        {
            var page = await _log.ReadAsync(Customer, after, _options.PageMax, cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            foreach (var e in page)
            {
                _idempotency.Remember(e);
            }

            after = page[^1].Seq;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Customer {Customer} activated at seq {Seq} with {Keys} idempotency keys")]
        public static partial void Activated(ILogger logger, string customer, long seq, int keys);

        [LoggerMessage(3, LogLevel.Warning, "Trimming the log of customer {Customer} failed")]
        public static partial void TrimFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(2, LogLevel.Warning, "Publishing event {Seq} of customer {Customer} to its stream failed")]
        public static partial void StreamPublishFailed(ILogger logger, Exception exception, string customer, long seq);
    }
}
