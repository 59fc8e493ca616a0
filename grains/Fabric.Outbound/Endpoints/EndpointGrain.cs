using Fabric.Contracts;
using Fabric.Contracts.Endpoints;
using Fabric.Grains.Customers;
using Fabric.Grains.Transforms;
using Fabric.Outbound.Delivery;
using Fabric.Wasm;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// One outbound endpoint: reads its customer's log by seq from its cursor (the log is the outbox), POSTs each matching
/// event signed with Standard Webhooks, retries on the endpoint's schedule, and keeps every attempt. Ordered endpoints
/// deliver one event at a time in seq order; unordered ones up to their concurrency.
/// </summary>
/// <remarks>
/// Delivery runs as one loop on the activation's scheduler (<c>EndpointGrain.Pump.cs</c>) that interleaves with calls
/// at its awaits; attempts run beside it. Waits use Fabric's clock (a test moves it) while the activation lives; a
/// reminder ticks every minute while anything is pending, so a wait outlives the activation and the silo.
/// </remarks>
internal sealed partial class EndpointGrain : Grain, IEndpointGrain, IRemindable, IDisposable
{
    private readonly IPersistentState<EndpointState> _state;
    private readonly IPersistentState<EndpointTransform> _transformState;
    private readonly IPersistentState<EndpointHistory> _history;
    private readonly WasmRuntime _wasm;
    private readonly OutboundOptions _options;
    private readonly WebhookSender _sender;
    private readonly IDataProtector _protector;
    private readonly TimeProvider _time;
    private readonly ILogger<EndpointGrain> _logger;
    private readonly SortedDictionary<long, Message> _open = [];
    private readonly CancellationTokenSource _stopping = new();

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
        _transformState = transform;
        _history = history;
        _wasm = wasm;
        _options = options.Value;
        _sender = sender;
        _protector = protection.CreateProtector(StandardWebhooks.ProtectionPurpose);
        _time = time;
        _logger = logger;
    }

    private EndpointState State => _state.State;

    private (string Customer, string Endpoint) Key => _key ??= EndpointKey.Parse(this.GetPrimaryKeyString());

    // Kept for the activation's life: GetGrain resolves the interface's type by reflection on every call.
    private ICustomerGrain CustomerGrain => _customerGrain ??= GrainFactory.GetGrain<ICustomerGrain>(Key.Customer);

    private (string Customer, string Endpoint)? _key;
    private ICustomerGrain? _customerGrain;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await LoadTransformAsync();
        foreach (var message in State.Open)
        {
            _open[message.Seq] = message;
        }

        _savedCursor = State.Cursor;
        if (State.Delivered.Count > 0)
        {
            // Written before the history had its own state: it moves there with the next saves.
            _history.State.Delivered.InsertRange(0, State.Delivered);
            State.Delivered = [];
            _dirty = _historyDirty = true;
        }

        if (State.Config is not null)
        {
            Log.Activated(_logger, Key.Endpoint, State.Cursor, _open.Count + State.Manual.Count);
            Wake();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (State.Config is null)
        {
            return;
        }

        if (_dirty)
        {
            await SaveLastAsync(SaveAsync);
        }

        if (_historyDirty)
        {
            await SaveLastAsync(SaveHistoryAsync);
        }
    }

    /// <summary>
    /// A save as the activation ends. A failure is logged: what the delivery state did not save is delivered again from
    /// the saved cursor (at-least-once); what the delivered record did not save is missing from it.
    /// </summary>
    private async Task SaveLastAsync(Func<Task> save)
    {
        try
        {
            await save();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.SaveFailed(_logger, ex, Key.Endpoint);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _transform?.Dispose();
    }

    public async Task<EndpointView> Create(EndpointSettings settings, string protectedSecret, long? afterSeq)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (State.Config is { } existing)
        {
            return View(existing);
        }

        var now = _time.GetUtcNow();
        var config = new EndpointRecord(
            Key.Endpoint,
            settings.Url ?? throw new ArgumentException("An endpoint needs a URL.", nameof(settings)),
            settings.Topics is { Count: > 0 } topics ? [.. topics] : ["*"],
            settings.Description,
            settings.Enabled ?? true,
            settings.Ordered ?? false,
            settings.RateLimitPerSecond,
            settings.MaxConcurrency ?? _options.MaxConcurrency,
            settings.Headers is { } headers ? new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase) : new Dictionary<string, string>(),
            settings.RetrySchedule is { Count: > 0 } schedule ? [.. schedule] : [.. _options.Schedule],
            settings.Timeout ?? _options.Timeout,
            [new EndpointSecret(protectedSecret, now, null)],
            now,
            now,
            null);

        // Where to start: after the given seq, never before what the log still holds, never past its end.
        var head = await CustomerGrain.GetSince(long.MaxValue - 1, 0);
        var start = Math.Clamp(afterSeq ?? head.LastSeq, head.FirstRetainedSeq - 1, head.LastSeq);
        State.Config = config;
        State.Cursor = State.ReadThrough = start;
        State.Epoch = head.Epoch.Id;
        await SaveAsync();
        try
        {
            await CustomerGrain.AddEndpoint(Key.Endpoint, start);
        }
        catch
        {
            // Not registered with the customer, so never told of appends: it must not exist half-made.
            await _writes.WriteAsync(() => _state.ClearStateAsync());
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

        var enabling = changes.Enabled == true && !config.Enabled;
        config = config with
        {
            Url = changes.Url ?? config.Url,
            Topics = changes.Topics is { Count: > 0 } topics ? [.. topics] : config.Topics,
            Description = changes.Description ?? config.Description,
            Enabled = changes.Enabled ?? config.Enabled,
            Ordered = changes.Ordered ?? config.Ordered,
            RateLimitPerSecond = changes.ClearRateLimit ? null : changes.RateLimitPerSecond ?? config.RateLimitPerSecond,
            MaxConcurrency = changes.MaxConcurrency ?? config.MaxConcurrency,
            Headers = changes.Headers is { } headers ? new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase) : config.Headers,
            RetrySchedule = changes.RetrySchedule is { Count: > 0 } schedule ? [.. schedule] : config.RetrySchedule,
            Timeout = changes.Timeout ?? config.Timeout,
            Updated = _time.GetUtcNow(),
            // Re-enabled: the failures that disabled it are forgiven, and what was pending is attempted again at once.
            DisabledReason = enabling ? null : config.DisabledReason,
        };
        if (enabling)
        {
            State.FailingSince = null;
            foreach (var message in _open.Values)
            {
                message.Due = _time.GetUtcNow();
            }
        }

        State.Config = config;
        _topics = null;
        await SaveAsync();
        Wake();
        return View(config);
    }

    public async Task<bool> Delete()
    {
        if (State.Config is null)
        {
            return false;
        }

        await CustomerGrain.RemoveEndpoint(Key.Endpoint);
        try
        {
            // After the writes under way; the loop's next save finds no configuration and writes nothing.
            await _writes.WriteAsync(() => _state.ClearStateAsync());
            // Checked after the writes under way: one of them may be the record's first.
            await _historyWrites.WriteAsync(() => _history.RecordExists ? _history.ClearStateAsync() : Task.CompletedTask);
            if (_transformState.State.Record is not null)
            {
                await _transformWrites.WriteAsync(_transformState.ClearStateAsync);
            }

            _transform?.Dispose();
            _transform = null;
            await _stopping.CancelAsync();
            _open.Clear();
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

        var now = _time.GetUtcNow();
        var previousUntil = now + overlap;
        // The old secrets sign until the overlap ends (one already ending sooner keeps its end); expired ones go.
        var secrets = config.Secrets
            .Where(s => s.Until is null || s.Until > now)
            .Select(s => s with { Until = s.Until is { } until && until < previousUntil ? until : previousUntil })
            .Append(new EndpointSecret(protectedSecret, now, null))
            .ToList();
        State.Config = config with { Secrets = secrets, Updated = now };
        await SaveAsync();
        return View(State.Config);
    }

    public Task OnAppended(long lastSeq)
    {
        // Any change wakes the loop: after a fork the log's end may be below what this endpoint knew.
        if (State.Config is not null && lastSeq != _knownLast)
        {
            _knownLast = lastSeq;
            Wake();
        }

        return Task.CompletedTask;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Deleted, disabled or caught up (HasWork says so for all three): the reminder goes.
        if (!HasWork)
        {
            await StopReminderAsync();
            return;
        }

        // The backstop: after a reactivation (this one, maybe) the customer's next append may be far off; the loop
        // reads the log from its cursor and attempts whatever is due.
        Wake();
    }

    private EndpointView View(EndpointRecord c) => new(
        c.Id, c.Url, c.Topics, c.Description, c.Enabled, c.Ordered, c.RateLimitPerSecond, c.MaxConcurrency, c.Headers, c.RetrySchedule, c.Timeout,
        c.Created, c.Updated, c.DisabledReason, State.Cursor, _open.Count + State.Manual.Count,
        c.Secrets.Count(s => s.Until is null || s.Until > _time.GetUtcNow()), State.FailingSince,
        c.Secrets.Where(s => s.Until > _time.GetUtcNow()).Select(s => s.Until).Max());

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Saving endpoint {Endpoint} failed; what was not saved is delivered again")]
        public static partial void SaveFailed(ILogger logger, Exception exception, string endpoint);

        [LoggerMessage(2, LogLevel.Warning, "Endpoint {Endpoint} disabled: {Reason}")]
        public static partial void Disabled(ILogger logger, string endpoint, string reason);

        [LoggerMessage(3, LogLevel.Warning, "Publishing fabric.endpoint.disabled for endpoint {Endpoint} failed")]
        public static partial void DisabledEventFailed(ILogger logger, Exception exception, string endpoint);

        [LoggerMessage(4, LogLevel.Warning, "Endpoint {Endpoint}: events {First}..{Last} left the log before delivery ({Reason})")]
        public static partial void Lost(ILogger logger, string endpoint, long first, long last, string reason);

        [LoggerMessage(5, LogLevel.Warning, "Endpoint {Endpoint}: delivery loop failed; it starts again")]
        public static partial void PumpFailed(ILogger logger, Exception exception, string endpoint);

        [LoggerMessage(7, LogLevel.Information, "Endpoint {Endpoint} activated at cursor {Cursor} with {Pending} pending")]
        public static partial void Activated(ILogger logger, string endpoint, long cursor, int pending);

        [LoggerMessage(8, LogLevel.Warning, "Endpoint {Endpoint}: its transform ({Hash}) could not be loaded; its messages fail until it is attached again")]
        public static partial void TransformNotLoaded(ILogger logger, Exception exception, string endpoint, string hash);

        [LoggerMessage(6, LogLevel.Warning, "Endpoint {Endpoint}: its reminder could not be kept")]
        public static partial void ReminderFailed(ILogger logger, Exception exception, string endpoint);
    }
}
