using Fabric.Contracts.Endpoints;
using Fabric.Grains.Log;

namespace Fabric.Grains.Customers;

/// <summary>
/// The customer's log is its endpoints' outbox: nothing is copied per event. Each endpoint grain keeps a cursor into
/// the log; this tells every endpoint when events were appended (one one-way call per push, not per event) and says
/// how much of the log a lagging endpoint holds back from the trim, up to
/// <see cref="CustomerOptions.EndpointHoldMaxEvents"/>, <see cref="CustomerOptions.EndpointHoldMaxBytes"/> and
/// <see cref="CustomerOptions.EndpointHoldMaxAge"/>; past those the trim goes on and the endpoint marks what it lost as
/// failed.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed class EndpointCursors(
    IPersistentState<EndpointRegistrations> state,
    CustomerOptions options,
    Func<long> lastSeq,
    Func<string, IEndpointGrain> resolve,
    Func<Func<CancellationToken, Task>, IDisposable> startBackstop)
{
    /// <summary>How many times a notice is repeated after an append while an endpoint has not reported the log's end.</summary>
    internal const int NoticeRepeats = 4;

    private readonly StateWrites _writes = new();

    // References kept: GetGrain resolves the interface's type by reflection on every call.
    private readonly Dictionary<string, IEndpointGrain> _grains = new(StringComparer.Ordinal);
    private IDisposable? _backstop;
    private int _noticesLeft;

    private Dictionary<string, long> Cursors => state.State.Cursors;

    /// <summary>Adds (or moves) an endpoint's cursor, within the log, and saves the list.</summary>
    public Task AddAsync(string endpoint, long cursor, long lastSeq)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        Cursors[endpoint] = Math.Clamp(cursor, 0, lastSeq);
        return SaveAsync();
    }

    public Task RemoveAsync(string endpoint)
    {
        _grains.Remove(endpoint);
        return Cursors.Remove(endpoint) ? SaveAsync() : Task.CompletedTask;
    }

    public IReadOnlyList<string> List() => [.. Cursors.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Only known endpoints, and only forward: a late report of a removed endpoint must not bring it back.</summary>
    public void Progress(string endpoint, long cursor)
    {
        if (Cursors.TryGetValue(endpoint, out var known) && cursor > known)
        {
            Cursors[endpoint] = cursor;
        }
    }

    /// <summary>Tells every endpoint the log now ends at <paramref name="lastSeq"/>; one-way, so a slow endpoint costs nothing here.</summary>
    public void Notify(long lastSeq)
    {
        foreach (var endpoint in Cursors.Keys)
        {
            _ = Grain(endpoint).OnAppended(lastSeq);
        }

        if (Cursors.Count > 0)
        {
            _noticesLeft = NoticeRepeats;
            // A one-way notice can be lost (sent to a silo that is dead but not yet declared so), and an idle endpoint has
            // no reminder of its own to notice: the backstop repeats it while one lags, a few times at most, since an
            // endpoint lagging for its own reasons (backing off, disabled) has its own reminder.
            _backstop ??= startBackstop(RenoticeAsync);
        }
    }

    /// <summary>One tick of the backstop: endpoints behind the log's end hear of it again; the timer goes once none lags.</summary>
    internal Task RenoticeAsync(CancellationToken cancellationToken)
    {
        var lagging = false;
        var last = lastSeq();
        foreach (var (endpoint, cursor) in Cursors)
        {
            if (cursor < last)
            {
                lagging = true;
                _ = Grain(endpoint).OnAppended(last);
            }
        }

        if (!lagging || --_noticesLeft <= 0)
        {
            _backstop?.Dispose();
            _backstop = null;
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Retention while an endpoint lags: the events after its cursor are kept (within the hold-back bounds), which may
    /// keep more of the settled ones too — never fewer than retention alone would.
    /// </summary>
    public RetentionLimits Limits(DateTimeOffset now, long lastSeq)
    {
        var normal = new RetentionLimits(options.RetentionMaxEvents, options.RetentionMaxBytes, now - options.RetentionMaxAge);
        if (Hold(lastSeq) is not { } hold)
        {
            return normal;
        }

        var lagging = (int)Math.Min(lastSeq - hold, options.EndpointHoldMaxEvents);
        var cutoff = now - options.EndpointHoldMaxAge;
        return new RetentionLimits(
            Math.Max(normal.MaxEvents, lagging),
            Math.Max(normal.MaxBytes, options.EndpointHoldMaxBytes),
            cutoff < normal.Cutoff ? cutoff : normal.Cutoff);
    }

    /// <summary>The lowest cursor of any endpoint, or null when none lags behind the log's end.</summary>
    private long? Hold(long lastSeq)
    {
        long? lowest = null;
        foreach (var cursor in Cursors.Values)
        {
            if (cursor < lastSeq && (lowest is null || cursor < lowest))
            {
                lowest = cursor;
            }
        }

        return lowest;
    }

    private IEndpointGrain Grain(string endpoint)
    {
        if (!_grains.TryGetValue(endpoint, out var grain))
        {
            _grains[endpoint] = grain = resolve(endpoint);
        }

        return grain;
    }

    /// <summary>The grain is reentrant: changes to the list are written one after another.</summary>
    private Task SaveAsync() => _writes.WriteAsync(state.WriteStateAsync);
}
