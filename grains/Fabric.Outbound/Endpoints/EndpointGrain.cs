using Fabric.Contracts.Endpoints;
using Fabric.Contracts.Transforms;
using Fabric.Contracts;
using Fabric.Grains.Transforms;
using Fabric.Grains;
using Fabric.Outbound.Delivery;
using Fabric.Rules.Outbound;
using Fabric.Wasm;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// One outbound endpoint: reads its customer's log by seq from its cursor (the log is the outbox), POSTs each matching
/// event signed with Standard Webhooks, retries on the endpoint's schedule, and keeps every attempt. Ordered endpoints
/// deliver one event at a time in seq order; unordered ones up to their concurrency. A coordinator over
/// <see cref="DeliverySchedule"/>, <see cref="EndpointStore"/>, <see cref="EndpointLedger"/>, <see cref="SignedPost"/>
/// and <see cref="EndpointTransformSlot"/>.
/// </summary>
/// <remarks>
/// Delivery runs as one loop on the activation's scheduler that interleaves with calls at its awaits; attempts run
/// beside it. Waits use Fabric's clock (a test moves it) while the activation lives; a reminder ticks every minute while
/// anything is pending, so a wait outlives the activation and the silo.
/// </remarks>
internal sealed partial class EndpointGrain : Grain, IEndpointGrain, IRemindable, IDisposable
{
    private const string DeliverReminder = "deliver";

    private readonly IPersistentState<EndpointState> _state;
    private readonly IPersistentState<EndpointHistory> _history;
    private readonly OutboundOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EndpointGrain> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly (string Customer, string Endpoint) _key;
    private readonly ICustomerGrain _customerLog;
    private readonly DeliverySchedule _schedule;
    private readonly EndpointStore _store;
    private readonly EndpointLedger _ledger;
    private readonly SignedPost _post;
    private readonly EndpointTransformSlot _transform;
    private readonly AttemptRunner _attempts;
    private readonly DeliveryLoop _loop;
    private bool _reminderOn;

    public EndpointGrain(
        [PersistentState("endpoint")] IPersistentState<EndpointState> state,
        [PersistentState("transform")] IPersistentState<EndpointTransform> transform,
        [PersistentState("history")] IPersistentState<EndpointHistory> history,
        WasmRuntime wasm,
        IOptions<OutboundOptions> options,
        WebhookSender sender,
        IDataProtectionProvider protection,
        [FromKeyedServices(FabricTime.Key)] TimeProvider time,
        ILogger<EndpointGrain> logger)
    {
        _state = state;
        _history = history;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _key = EndpointKey.Parse(this.GetPrimaryKeyString());
        // Kept for the activation's life: GetGrain resolves the interface's type by reflection on every call.
        _customerLog = GrainFactory.GetGrain<ICustomerGrain>(_key.Customer);
        _schedule = new DeliverySchedule(() => _state.State, _options.MaxPendingMessages);
        _store = new EndpointStore(state, history, _options, _schedule.OpenToSave, logger);
        _ledger = new EndpointLedger(() => _state.State, () => _history.State, _schedule, _store, _options);
        _post = new SignedPost(sender, protection.CreateProtector(EndpointSecrets.ProtectionPurpose), time);
        _transform = new EndpointTransformSlot(transform, wasm, time, logger);
        _attempts = new AttemptRunner(_key, () => _state.State, _customerLog, _schedule, _store, _ledger, _post, _transform, _options, time, logger,
            Wake, _stopping.Token);
        _loop = new DeliveryLoop(_key.Endpoint, () => _state.State, _customerLog, _schedule, _store, _ledger, time, logger,
            _attempts.RunAsync, KeepReminderAsync, Backoff.Fixed(_options.LoopRetry), _stopping.Token);
    }

    private EndpointState State => _state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await _transform.LoadAsync(_key.Endpoint);
        _schedule.Restore(State.Open);
        _store.Restored(State.Cursor);
        if (State.Delivered.Count > 0)
        {
            // Written before the history had its own state: it moves there with the next saves.
            _history.State.Delivered.InsertRange(0, State.Delivered);
            State.Delivered = [];
            _store.Changed();
            _store.HistoryChanged();
        }

        if (State.Config is not null)
        {
            Log.Activated(_logger, _key.Endpoint, State.Cursor, _schedule.OpenCount + State.Manual.Count);
            Wake();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (State.Config is not null)
        {
            await _store.SaveLastAsync(_key.Endpoint);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _transform.Dispose();
    }

    public async Task<EndpointView> Create(EndpointSettings settings, string protectedSecret, long? afterSeq)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (State.Config is { } existing)
        {
            return View(existing);
        }

        var config = EndpointRecords.Create(_key.Endpoint, settings, protectedSecret, _options, _time.GetUtcNow());

        // Where to start: after the given seq, never before what the log still holds, never past its end.
        var head = await _customerLog.GetSince(long.MaxValue - 1, 0);
        var start = Math.Clamp(afterSeq ?? head.LastSeq, head.FirstRetainedSeq - 1, head.LastSeq);
        State.Config = config;
        State.Cursor = State.ReadThrough = start;
        State.Epoch = head.Epoch.Id;
        await _store.SaveAsync();
        try
        {
            await _customerLog.AddEndpoint(_key.Endpoint, start);
        }
        catch
        {
            // Not registered with the customer, so never told of appends: it must not exist half-made.
            await _store.ClearStateAsync();
            throw;
        }

        Wake();
        return View(config);
    }

    public Task<EndpointView?> GetView() => Task.FromResult(State.Config is { } config ? View(config) : null);

    public async Task<EndpointView?> Update(EndpointSettings changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (State.Config is not { } config)
        {
            return null;
        }

        if (changes.Enabled == true && !config.Enabled)
        {
            // Re-enabled: the failures that disabled it are forgiven, and what was pending is attempted again at once.
            State.FailingSince = null;
            _schedule.AllDue(_time.GetUtcNow());
        }

        State.Config = config.With(changes, _time.GetUtcNow());
        _loop.TopicsChanged();
        await _store.SaveAsync();
        Wake();
        return View(State.Config);
    }

    public async Task<bool> Delete()
    {
        if (State.Config is null)
        {
            return false;
        }

        await _customerLog.RemoveEndpoint(_key.Endpoint);
        try
        {
            // After the writes under way; the loop's next save finds no configuration and writes nothing.
            await _store.ClearAsync();
            await _transform.ClearAsync();
            await _stopping.CancelAsync();
            _schedule.Clear();
            await StopReminderAsync();
        }
        finally
        {
            DeactivateOnIdle();
        }

        return true;
    }

    public async Task<EndpointView?> RotateSecret(string protectedSecret, TimeSpan overlap)
    {
        if (State.Config is not { } config)
        {
            return null;
        }

        State.Config = config.Rotated(protectedSecret, overlap, _time.GetUtcNow());
        await _store.SaveAsync();
        return View(State.Config);
    }

    public Task OnAppended(long lastSeq)
    {
        // Any change wakes the loop: after a fork the log's end may be below what this endpoint knew.
        if (State.Config is not null && lastSeq != _schedule.KnownLast)
        {
            _schedule.KnownLast = lastSeq;
            Wake();
        }

        return Task.CompletedTask;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Deleted, disabled or caught up (HasWork says so for all three): the reminder goes.
        if (!_schedule.HasWork)
        {
            await StopReminderAsync();
            return;
        }

        // The backstop: after a reactivation (this one, maybe) the customer's next append may be far off; the loop
        // reads the log from its cursor and attempts whatever is due.
        Wake();
    }

    public Task<IReadOnlyList<MessageView>?> GetMessages(MessageStatus status, int limit)
    {
        if (State.Config is null)
        {
            return Task.FromResult<IReadOnlyList<MessageView>?>(null);
        }

        var messages = status switch
        {
            MessageStatus.Pending => _schedule.Pending,
            MessageStatus.Delivered => _ledger.Delivered,
            _ => _ledger.Failed,
        };
        return Task.FromResult<IReadOnlyList<MessageView>?>([.. messages.Take(limit).Select(m => m.View(status))]);
    }

    public async Task<RetryOutcome> Retry(string eventId)
    {
        if (State.Config is null)
        {
            return RetryOutcome.UnknownEndpoint;
        }

        if (_schedule.IsPending(eventId))
        {
            return RetryOutcome.Queued;
        }

        if (_ledger.FindSettled(eventId) is not { } message)
        {
            return RetryOutcome.UnknownMessage;
        }

        if (await _attempts.ReadEventAsync(message.Seq) is null)
        {
            return RetryOutcome.Expired;
        }

        _ledger.Requeue(message, recovering: false, _time.GetUtcNow());
        await _store.SaveAsync();
        Wake();
        return RetryOutcome.Queued;
    }

    public async Task<RecoveryView?> Recover(DateTimeOffset since)
    {
        if (State.Config is null)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        foreach (var message in _ledger.FailedSince(since))
        {
            _ledger.Requeue(message, recovering: true, now);
        }

        // Messages of an earlier recovery still waiting count in this one, so done never passes total.
        var total = State.Manual.Count(m => m.Recovering);
        State.Recovery = new RecoveryView(since, now, total, 0, 0, 0, total == 0 ? now : null);
        await _store.SaveAsync();
        Wake();
        return State.Recovery;
    }

    public Task<RecoveryView?> GetRecovery() => Task.FromResult(State.Config is null ? null : State.Recovery);

    public async Task<TransformAttach?> SetTransform(TransformSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return State.Config is null ? null : await _transform.SetAsync(settings);
    }

    public Task<TransformView?> GetTransform() => Task.FromResult(State.Config is null ? null : _transform.Get());

    public async Task<bool> RemoveTransform() => State.Config is not null && await _transform.RemoveAsync();

    private EndpointView View(EndpointRecord config) =>
        config.View(State.Cursor, _schedule.OpenCount + State.Manual.Count, State.FailingSince, _time.GetUtcNow());

    private void Wake() => _loop.Wake();

    /// <summary>
    /// While anything is pending, a reminder ticks every minute (Orleans' shortest): if the activation or its silo is
    /// gone, the tick brings the endpoint back to deliver. Registered by the loop when work appears; dropped by the
    /// first tick that finds nothing pending, so a quiet endpoint does not write its reminder twice per event.
    /// </summary>
    private async Task KeepReminderAsync()
    {
        if (!_reminderOn && _schedule.HasWork)
        {
            try
            {
                await this.RegisterOrUpdateReminder(DeliverReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
                _reminderOn = true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ReminderFailed(_logger, ex, _key.Endpoint);
            }
        }
    }

    private async Task StopReminderAsync()
    {
        try
        {
            if (await this.GetReminder(DeliverReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            _reminderOn = false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.ReminderFailed(_logger, ex, _key.Endpoint);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(7, LogLevel.Information, "Endpoint {Endpoint} activated at cursor {Cursor} with {Pending} pending")]
        public static partial void Activated(ILogger logger, string endpoint, long cursor, int pending);

        [LoggerMessage(6, LogLevel.Warning, "Endpoint {Endpoint}: its reminder could not be kept")]
        public static partial void ReminderFailed(ILogger logger, Exception exception, string endpoint);
    }
}
