using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Contracts.Endpoints;
using Fabric.Contracts.Transforms;
using Fabric.Grains.Log;
using Fabric.Grains.Transforms;
using Fabric.Wasm;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Streams;

namespace Fabric.Grains.Customers;

/// <summary>
/// Orders, de-duplicates and keeps one customer's events, then pushes them to the gateways that hold the customer's
/// sockets, tells its endpoints, and publishes them on the customer's Orleans stream. A coordinator: each concern is a
/// plain class it owns — <see cref="GroupCommit"/>, <see cref="PushFanout"/>, <see cref="SessionTable"/>,
/// <see cref="EndpointCursors"/>, <see cref="SourceTransformSet"/>, <see cref="GatewaySet"/>, <see cref="LogRetention"/>.
/// </summary>
/// <remarks>
/// Reentrant so that appends can share log writes (group commit): seqs are handed out synchronously within a turn, so
/// order does not depend on the interleaving; everything else reads committed state only. The parts are not
/// thread-safe and need not be: they run on this activation's scheduler.
/// </remarks>
[Reentrant]
internal sealed partial class CustomerGrain : Grain, ICustomerGrain, IRemindable
{
    private const string RetentionReminder = "retention";

    private readonly IEventLog _log;
    private readonly CustomerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<CustomerGrain> _logger;
    private readonly StreamConsumers _streamConsumers;
    private readonly string _customer;
    private readonly IdempotencyKeys _keys;
    private readonly GroupCommit _commit;
    private readonly PushFanout _push;
    private readonly GatewaySet _gateways;
    private readonly SessionTable _sessions;
    private readonly EndpointCursors _endpoints;
    private readonly SourceTransformSet _transforms;
    private readonly LogRetention _retention;

    // The ids of the seqs this activation wrote, newest few thousand: a gateway's witness is checked against them.
    private readonly RecentIds _recent = new(4096);

    private LogHead _head = LogHead.Empty;
    private LogEpoch _epoch = LogEpoch.New(0);

    // The head this activation started from: seqs above it were handed out by this activation.
    private long _activationSeq;
    private IAsyncStream<EventEnvelope>? _stream;

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
        _log = log;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _streamConsumers = streamConsumers;
        _customer = this.GetPrimaryKeyString();
        _keys = new IdempotencyKeys(log, _customer, _options, time, logger);
        _gateways = new GatewaySet(registrations, _options.ObserverExpiry, time, _customer, logger);
        _sessions = new SessionTable(time, _options.ObserverExpiry, Announce);
        _transforms = new SourceTransformSet(transforms, wasm, time, _customer, logger);
        _endpoints = new EndpointCursors(endpoints, _options, () => _head.LastSeq,
            endpoint => GrainFactory.GetGrain<IEndpointGrain>(EndpointKey.Of(_customer, endpoint)),
            tick => this.RegisterGrainTimer(tick, new GrainTimerCreationOptions
            {
                DueTime = _options.EndpointNoticeInterval,
                Period = _options.EndpointNoticeInterval,
                Interleave = true,
            }));
        _commit = new GroupCommit(log, _customer, _options, logger, () => _epoch, Kept, _ => this.DeactivateOnIdle());
        var broken = () => _commit.Broken is not null;
        _push = new PushFanout(_customer, _options, _gateways.Observers, logger, () => _epoch, Stream, _endpoints.Notify);
        _retention = new LogRetention(log, _customer, _options, time, logger,
            () => _head, Trimmed, now => _endpoints.Limits(now, _head.LastSeq), KeepSweepReminderAsync, broken);
    }

    /// <summary>
    /// Reads only the log's head (a few small keys, whatever the log holds): the idempotency keys wait for the first
    /// append that needs them, and the retention reminder is looked at after a write, not here. A history read or a
    /// socket for a quiet customer costs one small read; a stranger (never appended) leaves nothing behind.
    /// </summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _gateways.Restore();
        _head = await _log.ReadHeadAsync(_customer, cancellationToken);
        _commit.StartAfter(_head.LastSeq);
        _activationSeq = _head.LastSeq;
        // A log that never stored an epoch gets one with its first append; until then any id will do, since nothing
        // above its last seq was handed out under another.
        _epoch = _head.Epoch ?? LogEpoch.New(_head.LastSeq);
        await _transforms.LoadAsync();
        Log.Activated(_logger, _customer, _head.LastSeq);
    }

    public async Task<AppendResult> Append(IncomingEvent incoming)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        // In the event's own trace even when the call's context did not carry it (a coalesced call, a sampler upstream).
        using var activity = AppendSpans.StartOwn(incoming, Activity.Current) ?? GrainsTelemetry.Source.StartActivity(GrainsTelemetry.AppendSpan);
        if (incoming.IdempotencyKey is not null)
        {
            await _keys.EnsureLoadedAsync();
        }

        var result = await Admit(incoming, _time.GetUtcNow(), startWriting: true);
        activity?.SetTag("fabric.seq", result.Seq);
        activity?.SetTag("fabric.duplicate", result.Duplicate);
        return result;
    }

    public async Task<IReadOnlyList<AppendResult>> AppendBatch(IReadOnlyList<IncomingEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        using var activity = GrainsTelemetry.Source.StartActivity(GrainsTelemetry.AppendSpan);
        activity?.SetTag("fabric.batch", events.Count);
        if (events.Any(e => e.IdempotencyKey is not null))
        {
            await _keys.EnsureLoadedAsync();
        }

        var now = _time.GetUtcNow();
        // All admitted in this one turn, before any write starts: consecutive seqs, and one log write for the lot
        // (a call is never split across writes, whatever AppendBatchMax and AppendBatchMaxBytes say).
        var pending = new Task<AppendResult>[events.Count];
        var first = _commit.Assigned + 1;
        var call = Activity.Current;
        for (var i = 0; i < events.Count; i++)
        {
            var own = AppendSpans.StartOwn(events[i], call);
            pending[i] = Admit(events[i], now, startWriting: false);
            if (own is not null)
            {
                Activity.Current = call;
                _ = AppendSpans.EndWhenKeptAsync(own, pending[i]);
            }
        }

        _commit.KeepTogether(first, _commit.Assigned);
        _commit.StartWriting();
        return await Task.WhenAll(pending);
    }

    /// <summary>
    /// Synchronously decides an event's fate: a repeat of a kept or in-flight key answers with the first event; a new
    /// event takes the next seq and joins the batch. The returned task completes once the event is kept.
    /// </summary>
    private Task<AppendResult> Admit(IncomingEvent incoming, DateTimeOffset now, bool startWriting)
    {
        if (_commit.Broken is not null)
        {
            return Task.FromException<AppendResult>(new LogUnavailableException("The customer's log failed; this activation is being replaced."));
        }

        if (incoming.IdempotencyKey is { } key)
        {
            if (_keys.TryGet(incoming.Source, key, now, out var first))
            {
                GrainsTelemetry.Duplicates.Add(1);
                return Task.FromResult(first);
            }

            if (_commit.TryGetInFlight(incoming.Source, key, out var pending))
            {
                // The same key is being written right now: answer with that event once it is kept.
                GrainsTelemetry.Duplicates.Add(1);
                return AsDuplicateAsync(pending);
            }
        }

        var id = "evt_" + Guid.CreateVersion7(now).ToString("N");
        if (_transforms.Apply(ref incoming, id, now, out var transformError, out var original) is { } dropped)
        {
            // Dropped or rejected by the source's module: no seq taken, nothing stored, no key remembered.
            return Task.FromResult(dropped);
        }

        var envelope = new EventEnvelope(
            Id: id,
            Seq: _commit.NextSeq(),
            Customer: _customer,
            Source: incoming.Source,
            Type: incoming.Type,
            Time: now,
            ContentType: incoming.ContentType,
            Data: incoming.Data,
            IdempotencyKey: incoming.IdempotencyKey,
            TraceParent: incoming.TraceParent ?? Activity.Current?.Id,
            CloudEvent: incoming.CloudEvent,
            TransformError: transformError,
            Original: original);

        // Kept first, acknowledged after: the answer waits for the log write that carries this event.
        return _commit.Add(envelope, startWriting);
    }

    private static async Task<AppendResult> AsDuplicateAsync(Task<AppendResult> first) => (await first) with { Duplicate = true };

    /// <summary>A write is kept: its events are remembered and queued for pushing, before their appends are answered.</summary>
    private void Kept(List<PendingAppend> written)
    {
        _head = _head with { LastSeq = written[^1].Event.Seq };
        long bytes = 0;
        foreach (var (e, _) in written)
        {
            _keys.Remember(e);
            _recent.Add(e.Seq, e.Id);
            bytes += EventSize.Of(e);
            _push.Enqueue(e);
        }

        // Nothing slow between two log writes: trimming and the reminder run beside the write loop.
        _retention.Written(bytes);
    }

    public Task<EventPage> GetSince(long afterSeq, int max) =>
        ReadPageAsync(Math.Clamp(afterSeq, 0, long.MaxValue - 1), Math.Clamp(max, 0, _options.PageMax));

    /// <summary>
    /// One page, bounded by count and by bytes (<see cref="CustomerOptions.PageMaxBytes"/>; at least one event). Never
    /// trims: retention runs after writes and on the sweep, so a read costs one read.
    /// </summary>
    private async Task<EventPage> ReadPageAsync(long afterSeq, int max)
    {
        var events = max == 0 || afterSeq >= _head.LastSeq ? [] : await _log.ReadAsync(_customer, afterSeq, max, _options.PageMaxBytes);
        // Complete when nothing between afterSeq and the oldest retained event was dropped. The events themselves say so
        // when there are any: the head may lag a trim that was running while they were read.
        var first = events.Count > 0 ? Math.Max(_head.FirstRetainedSeq, events[0].Seq) : _head.FirstRetainedSeq;
        var complete = events.Count > 0 ? events[0].Seq == afterSeq + 1 : afterSeq >= first - 1;
        return new EventPage(events, first, _head.LastSeq, complete, _epoch);
    }

    public async Task<Registration> Subscribe(string gatewayId, long generation, IGatewayObserver observer, LogPosition? released)
    {
        ArgumentException.ThrowIfNullOrEmpty(gatewayId);
        if (released is not null && released.Epoch == _epoch.Id && WentBack(released))
        {
            await ForkAsync(released.Seq);
        }

        await _gateways.SubscribeAsync(gatewayId, generation, observer);
        return new Registration(_head.LastSeq, _epoch, _sessions.CountOf(gatewayId));
    }

    public Task Unsubscribe(string gatewayId, long generation) => _gateways.UnsubscribeAsync(gatewayId, generation);

    /// <summary>
    /// A gateway received <paramref name="released"/> from this epoch. The log went back when that seq is beyond what
    /// this activation has handed out, or when this activation handed the seq out again with another event (it
    /// started from a head that had lost it). Seqs up to where this activation started are not in doubt.
    /// </summary>
    private bool WentBack(LogPosition released) =>
        released.Seq > _commit.Assigned
        || (released.Seq > _activationSeq && released.EventId is not null && _recent.TryGet(released.Seq, out var id) && id != released.EventId);

    /// <summary>
    /// Starts a new epoch forking where this activation began: every seq above it may have named another event for
    /// someone, so readers holding one start again from there.
    /// </summary>
    private async Task ForkAsync(long witnessed)
    {
        var next = LogEpoch.New(_activationSeq, _epoch);
        Log.LogWentBack(_logger, _customer, witnessed, next.Base);
        GrainsTelemetry.EpochForks.Add(1);
        _epoch = await _log.ForkAsync(_customer, _epoch, next);
    }

    // Sessions and presence: in memory only; a reactivated grain learns them from each gateway's next renewal
    // (Registration.Sessions tells a gateway its count differs).
    public Task<SessionAdmission> Connect(SessionInfo session, int limit) =>
        Task.FromResult(new SessionAdmission(_sessions.Connect(session, limit), _sessions.Count, _epoch));

    public Task UpdateSession(SessionInfo session) => Done(() => _sessions.Update(session));

    public Task Disconnect(string gatewayId, string session) => Done(() => _sessions.Disconnect(gatewayId, session));

    public Task SyncSessions(string gatewayId, IReadOnlyList<SessionInfo> sessions) => Done(() => _sessions.Sync(gatewayId, sessions));

    public Task<IReadOnlyList<SessionInfo>> GetSessions() => Task.FromResult(_sessions.List());

    public Task<IReadOnlyList<PresenceMember>> GetPresence(string topic) => Task.FromResult(_sessions.Presence(topic));

    public Task<bool> Kick(string session)
    {
        if (_sessions.Kick(session) is not { } known)
        {
            return Task.FromResult(false);
        }

        if (_gateways.TryGet(known.Gateway, out var gateway))
        {
            // One-way: the gateway closes the socket with "disconnected by the operator"; the entry is gone already.
            _ = gateway.OnKick(_customer, session);
        }

        return Task.FromResult(true);
    }

    /// <summary>Tells the gateways watching a topic that a member joined or left it (one-way).</summary>
    private void Announce(PresenceNotice notice)
    {
        var change = new PresenceChange(_customer, notice.Topic, notice.Joined, notice.Member);
        foreach (var gatewayId in notice.Gateways)
        {
            if (_gateways.TryGet(gatewayId, out var gateway))
            {
                _ = gateway.OnPresence(change);
            }
        }
    }

    public async Task<long> AddEndpoint(string endpoint, long cursor)
    {
        await _endpoints.AddAsync(endpoint, cursor, _head.LastSeq);
        return _head.LastSeq;
    }

    public Task RemoveEndpoint(string endpoint) => _endpoints.RemoveAsync(endpoint);

    public Task<IReadOnlyList<string>> GetEndpoints() => Task.FromResult(_endpoints.List());

    public Task EndpointProgress(string endpoint, long cursor) => Done(() => _endpoints.Progress(endpoint, cursor));

    public Task<TransformAttach> SetTransform(string source, TransformSettings settings) => _transforms.SetAsync(source, settings);

    public Task<TransformView?> GetTransform(string source) => Task.FromResult(_transforms.Get(source));

    public Task<bool> RemoveTransform(string source) => _transforms.RemoveAsync(source);

    /// <summary>The retention sweep: trims a quiet customer's log by age; once the log is empty the reminder goes.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await _retention.TrimAsync(_time.GetUtcNow(), keys: true);
        await _retention.KeepSweepAsync();

        // A backstop for a lost one-way notice: an endpoint behind the log's end hears of it at least once a sweep.
        _endpoints.Notify(_head.LastSeq);
    }

    private async Task KeepSweepReminderAsync(bool wanted)
    {
        var reminder = await this.GetReminder(RetentionReminder);
        if (wanted && reminder is null)
        {
            await this.RegisterOrUpdateReminder(RetentionReminder, _options.RetentionSweepInterval, _options.RetentionSweepInterval);
        }
        else if (!wanted && reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>A write may have committed while the trim was on its way (the grain is reentrant): seqs only grow.</summary>
    private void Trimmed(LogHead head) =>
        _head = _head with { FirstRetainedSeq = Math.Max(_head.FirstRetainedSeq, head.FirstRetainedSeq), LastSeq = Math.Max(_head.LastSeq, head.LastSeq) };

    /// <summary>The customer's stream while anyone consumes it (see <see cref="CustomerOptions.PublishToStream"/>), else null.</summary>
    private IAsyncStream<EventEnvelope>? Stream() =>
        !_options.PublishToStream || !_streamConsumers.Any ? null
        : _stream ??= this.GetStreamProvider(FabricStreams.ProviderName).GetStream<EventEnvelope>(StreamId.Create(FabricStreams.CustomerEvents, _customer));

    private static Task Done(Action change)
    {
        change();
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Customer {Customer} activated at seq {Seq}")]
        public static partial void Activated(ILogger logger, string customer, long seq);

        [LoggerMessage(8, LogLevel.Warning, "Customer {Customer}: the log is behind seq {Seq}, which a gateway had received; forked to a new epoch at {Base}")]
        public static partial void LogWentBack(ILogger logger, string customer, long seq, long @base);
    }
}
