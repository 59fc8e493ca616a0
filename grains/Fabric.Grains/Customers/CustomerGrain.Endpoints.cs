using Fabric.Contracts;
using Fabric.Contracts.Endpoints;
using Fabric.Grains.Log;

namespace Fabric.Grains.Customers;

/// <summary>
/// The customer's log is its endpoints' outbox: nothing is copied per event. Each endpoint grain keeps a cursor into
/// the log; this grain tells every endpoint when events were appended (one one-way call per push, not per event) and
/// keeps what a lagging endpoint has not settled, up to <see cref="CustomerOptions.EndpointHoldMaxEvents"/>,
/// <see cref="CustomerOptions.EndpointHoldMaxBytes"/> and <see cref="CustomerOptions.EndpointHoldMaxAge"/>; past those the
/// trim goes on and the endpoint marks what it lost as failed.
/// </summary>
internal sealed partial class CustomerGrain
{
    public async Task<long> AddEndpoint(string endpoint, long cursor)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        _endpoints.State.Cursors[endpoint] = Math.Clamp(cursor, 0, _head.LastSeq);
        await SaveEndpointsAsync();
        return _head.LastSeq;
    }

    public async Task RemoveEndpoint(string endpoint)
    {
        _endpointGrains.Remove(endpoint);
        if (_endpoints.State.Cursors.Remove(endpoint))
        {
            await SaveEndpointsAsync();
        }
    }

    /// <summary>The grain is reentrant: endpoint changes are written one after another.</summary>
    private Task SaveEndpointsAsync() => _endpointWrites.WriteAsync(() => _endpoints.WriteStateAsync());

    private readonly StateWrites _endpointWrites = new();

    public Task<IReadOnlyList<string>> GetEndpoints() =>
        Task.FromResult<IReadOnlyList<string>>([.. _endpoints.State.Cursors.Keys.Order(StringComparer.Ordinal)]);

    public Task EndpointProgress(string endpoint, long cursor)
    {
        // Only known endpoints, and only forward: a late report of a removed endpoint must not bring it back.
        if (_endpoints.State.Cursors.TryGetValue(endpoint, out var known) && cursor > known)
        {
            _endpoints.State.Cursors[endpoint] = cursor;
        }

        return Task.CompletedTask;
    }

    /// <summary>An endpoint's reference, kept: GetGrain resolves the interface's type by reflection on every call.</summary>
    private IEndpointGrain Endpoint(string endpoint)
    {
        if (!_endpointGrains.TryGetValue(endpoint, out var grain))
        {
            grain = GrainFactory.GetGrain<IEndpointGrain>(EndpointKey.Of(Customer, endpoint));
            _endpointGrains[endpoint] = grain;
        }

        return grain;
    }

    private readonly Dictionary<string, IEndpointGrain> _endpointGrains = new(StringComparer.Ordinal);

    /// <summary>Tells every endpoint the log now ends at <paramref name="lastSeq"/>; one-way, so a slow endpoint costs nothing here.</summary>
    private void NotifyEndpoints(long lastSeq)
    {
        foreach (var endpoint in _endpoints.State.Cursors.Keys)
        {
            _ = Endpoint(endpoint).OnAppended(lastSeq);
        }

        if (_endpoints.State.Cursors.Count > 0)
        {
            _noticesLeft = NoticeRepeats;
            KeepNoticeBackstop();
        }
    }

    /// <summary>
    /// A one-way notice can be lost — sent to a silo that is dead but not yet declared so, right after a silo failure —
    /// and an idle endpoint has no reminder of its own to notice. So while an endpoint has not reported the log's end,
    /// it is told again every <see cref="CustomerOptions.EndpointNoticeInterval"/> (an endpoint that already knows
    /// ignores it), at most <see cref="NoticeRepeats"/> times after an append: an endpoint that lags for its own reasons
    /// (backing off, disabled) has its own reminder, and must not keep this grain active. The timer goes once none lags.
    /// </summary>
    private void KeepNoticeBackstop()
    {
        _noticeTimer ??= this.RegisterGrainTimer(RenoticeAsync, new GrainTimerCreationOptions
        {
            DueTime = _options.EndpointNoticeInterval,
            Period = _options.EndpointNoticeInterval,
            Interleave = true,
        });
    }

    private Task RenoticeAsync(CancellationToken cancellationToken)
    {
        var lagging = false;
        foreach (var (endpoint, cursor) in _endpoints.State.Cursors)
        {
            if (cursor < _head.LastSeq)
            {
                lagging = true;
                _ = Endpoint(endpoint).OnAppended(_head.LastSeq);
            }
        }

        if (!lagging || --_noticesLeft <= 0)
        {
            _noticeTimer?.Dispose();
            _noticeTimer = null;
        }

        return Task.CompletedTask;
    }

    private IGrainTimer? _noticeTimer;
    private int _noticesLeft;
    private const int NoticeRepeats = 4;

    /// <summary>The lowest cursor of any endpoint, or null when none lags behind the log's end.</summary>
    private long? EndpointHold()
    {
        long? lowest = null;
        foreach (var cursor in _endpoints.State.Cursors.Values)
        {
            if (cursor < _head.LastSeq && (lowest is null || cursor < lowest))
            {
                lowest = cursor;
            }
        }

        return lowest;
    }

    /// <summary>
    /// Retention while an endpoint lags: the events after its cursor are kept (within the hold-back bounds), which
    /// may keep more of the settled ones too — never fewer than retention alone would.
    /// </summary>
    private RetentionLimits Limits(DateTimeOffset now)
    {
        var normal = new RetentionLimits(_options.RetentionMaxEvents, _options.RetentionMaxBytes, now - _options.RetentionMaxAge);
        if (EndpointHold() is not { } hold)
        {
            return normal;
        }

        var lagging = (int)Math.Min(_head.LastSeq - hold, _options.EndpointHoldMaxEvents);
        var cutoff = now - _options.EndpointHoldMaxAge;
        return new RetentionLimits(
            Math.Max(normal.MaxEvents, lagging),
            Math.Max(normal.MaxBytes, _options.EndpointHoldMaxBytes),
            cutoff < normal.Cutoff ? cutoff : normal.Cutoff);
    }
}
