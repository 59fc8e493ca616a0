using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Gateway.Events;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// This gateway's view of one customer's event stream: pushes from the grain arrive best effort and possibly out of
/// order; the feed releases them to its sockets strictly in seq order, each once, and fills any gap from the grain
/// before releasing what follows it.
/// </summary>
internal sealed partial class CustomerFeed
{
    private readonly Lock _lock = new();
    private readonly ICustomerGrain _grain;
    private readonly SocketOptions _options;
    private readonly ILogger _logger;
    private readonly SortedDictionary<long, EventEnvelope> _pending = [];
    private readonly List<SocketSession> _sessions = [];
    private readonly PresenceWatchers _watchers = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The ids of the last seqs released: a push that names another event at one of them proves the log went back.
    private readonly RecentIds _releasedIds = new(64);
    private volatile bool _stopped;
    private LogEpoch? _epoch;
    private long _released;
    private string? _releasedId;
    private long _knownLast;
    private long _pendingBytes;
    private bool _filling;
    private int _replays;

    // A position the log contradicted (a push with another event at a released seq): the next renewal's witness.
    private LogPosition? _suspect;
    private bool _renewalRequested;

    // Tracing: a span per socket write for this customer (Fabric:Telemetry:DebugCustomers); the push span of the batch
    // being released, parent of the deliveries of its events; and whether the events being dispatched come from a gap fill.
    private readonly bool _traceWrites;
    private ActivityContext _pushSpan;
    private bool _dispatchingFill;

    public CustomerFeed(string customer, ICustomerGrain grain, SocketOptions options, ILogger logger, bool traceWrites = false)
    {
        Customer = customer;
        _grain = grain;
        _options = options;
        _logger = logger;
        _traceWrites = traceWrites;
        Frames = new FrameCache(options.FrameCacheBytes);
    }

    /// <summary>Frames shared by this customer's sockets, live and replaying.</summary>
    public FrameCache Frames { get; }

    public string Customer { get; }

    /// <summary>Completes once the grain has told the feed where its stream stands.</summary>
    public Task Ready => _ready.Task;

    /// <summary>True once the last socket left; background work for the feed ends.</summary>
    public bool IsStopped => _stopped;

    /// <summary>Bytes of pushed events waiting for a gap to be filled (bounded by <see cref="SocketOptions.PendingMaxBytes"/>).</summary>
    public long PendingBytes
    {
        get { lock (_lock) { return _pendingBytes; } }
    }

    public void Add(SocketSession session)
    {
        lock (_lock)
        {
            _sessions.Add(session);
        }
    }

    /// <summary>Removes a session; true when it was the last one.</summary>
    public bool Remove(SocketSession session)
    {
        lock (_lock)
        {
            _sessions.Remove(session);
            _watchers.Remove(session, session.Watching);
            return _sessions.Count == 0;
        }
    }

    /// <summary>The session hears joins and leaves in <paramref name="topics"/> too.</summary>
    public void Watch(SocketSession session, IReadOnlyList<string> topics)
    {
        lock (_lock)
        {
            _watchers.Add(session, topics);
            session.Watching = [.. session.Watching.Union(topics, StringComparer.Ordinal)];
        }
    }

    /// <summary>The session no longer hears joins and leaves in <paramref name="topics"/>.</summary>
    public void Unwatch(SocketSession session, IReadOnlyList<string> topics)
    {
        lock (_lock)
        {
            if (session.Watching.Count > 0)
            {
                _watchers.Remove(session, topics);
                session.Watching = [.. session.Watching.Except(topics, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Queues <paramref name="frame"/> (made once, if anyone watches) on every socket watching <paramref name="topic"/>.</summary>
    public void SendToWatchers(string topic, Func<byte[]> frame)
    {
        lock (_lock)
        {
            byte[]? bytes = null;
            foreach (var session in _watchers.Of(topic))
            {
                session.Enqueue(bytes ??= frame());
            }
        }
    }

    public SocketSession[] Sessions()
    {
        lock (_lock)
        {
            return [.. _sessions];
        }
    }

    public void Stop() => _stopped = true;

    /// <summary>Swaps a socket's topics under the feed lock, so no event matched by the old set follows the reply.</summary>
    public void Unsubscribe(SocketSession session, string[] topics, string? @ref)
    {
        lock (_lock)
        {
            session.Topics = session.Topics.Without(topics);
            SocketReplies.Unsubscribed(session, topics, @ref);
        }
    }

    /// <summary>A push from the grain.</summary>
    public void OnEvents(EventBatch batch)
    {
        var renew = false;
        lock (_lock)
        {
            if (_ready.Task.IsCompleted)
            {
                // A push from an older epoch is stale, or the log started over: a renewal tells which.
                renew = !AcceptEpochLocked(batch.Epoch, authoritative: false);
            }
            else if (_epoch is null || (_epoch.Id != batch.Epoch.Id && batch.Epoch.Generation >= _epoch.Generation))
            {
                // Before the registration answers, keep only one epoch's pushes: the answer says which one stays.
                ClearPendingLocked();
                _epoch = batch.Epoch;
            }

            if (!renew && _epoch!.Id == batch.Epoch.Id)
            {
                foreach (var e in batch.Events)
                {
                    if (e.Seq > _released)
                    {
                        AddPendingLocked(e);
                        _knownLast = Math.Max(_knownLast, e.Seq);
                    }
                    else if (_releasedIds.TryGet(e.Seq, out var released) && released != e.Id)
                    {
                        // The log handed a released seq to another event: it went back without changing its epoch (an
                        // activation that started from a head that had lost writes). Say so to the grain now.
                        _suspect ??= new LogPosition(_epoch.Id, e.Seq, released);
                        renew = true;
                    }
                }

                if (_ready.Task.IsCompleted)
                {
                    ActivityContext.TryParse(batch.TraceParent, null, out _pushSpan);
                    ReleaseLocked();
                    _pushSpan = default;
                    StartFillIfGapLocked();
                }
            }

            // One renewal at a time: the flag clears when the grain answers.
            renew = renew && !_renewalRequested;
            _renewalRequested |= renew;
        }

        if (renew)
        {
            RenewalNeeded?.Invoke(this);
        }
    }

    /// <summary>
    /// Holds a pushed event until the ones before it are released, within <see cref="SocketOptions.PendingMaxBytes"/>:
    /// past that, a push is not kept — the seqs are still known, so the gap filler reads them from the log instead.
    /// </summary>
    private void AddPendingLocked(EventEnvelope e)
    {
        var size = EventSize.Of(e);
        if (_pending.ContainsKey(e.Seq) || (_pending.Count > 0 && _pendingBytes + size > _options.PendingMaxBytes))
        {
            return;
        }

        _pending[e.Seq] = e;
        _pendingBytes += size;
    }

    private bool TakePendingLocked(long seq, out EventEnvelope e)
    {
        if (_pending.Remove(seq, out e!))
        {
            _pendingBytes -= EventSize.Of(e);
            return true;
        }

        return false;
    }

    private void ClearPendingLocked()
    {
        _pending.Clear();
        _pendingBytes = 0;
    }

    /// <summary>Removes pending events whose seq the predicate selects, in one pass over the keys.</summary>
    private void DropPendingLocked(Func<long, bool> drop)
    {
        foreach (var seq in _pending.Keys.Where(drop).ToArray())
        {
            TakePendingLocked(seq, out _);
        }
    }

    private void ReleaseLocked()
    {
        // One end-to-end measure per release, not per socket: a histogram update per socket write was, at 10,000
        // sockets, ten thousand updates of one histogram's lock per event.
        _measurePending = true;
        while (TakePendingLocked(_released + 1, out var e))
        {
            ReleasedLocked(e);
            DispatchLocked(e);
        }

        // Each socket's send loop wakes once per release, to everything it got: a push of many events leaves as one
        // coalesced write per socket instead of a wake (and a write) at the first frame and more for the rest.
        foreach (var session in _unrung)
        {
            session.RingDeferred = false;
            session.Ring();
        }

        _unrung.Clear();
    }

    private void ReleasedLocked(EventEnvelope e)
    {
        _released = e.Seq;
        _releasedId = e.Id;
        _releasedIds.Add(e.Seq, e.Id);
    }

    // Whether this release's end-to-end measure is still to be handed to a socket (its first live frame written).
    private bool _measurePending;

    // Sockets DispatchLocked queued frames for without waking their send loops; ReleaseLocked rings them. Every dispatch
    // is followed by a release (TakePageLocked ends with one), so none is left unrung.
    private readonly List<SocketSession> _unrung = [];

    /// <summary>Hands one event to every live socket past it; the frame is serialized once for all of them.</summary>
    private void DispatchLocked(EventEnvelope e)
    {
        using var activity = StartDeliverActivity(e);
        // Accepted-to-written latency is measured for live pushes only: a gap fill's events were due earlier.
        var acceptedAt = _dispatchingFill ? 0 : e.Time.ToUnixTimeMilliseconds();
        byte[]? frame = null;
        var delivered = 0;
        foreach (var session in _sessions)
        {
            if (!session.Live || e.Seq <= session.Cursor)
            {
                continue;
            }

            session.Cursor = e.Seq;
            if (session.Topics.Matches(e.Type))
            {
                // Shared with replays through the cache while any runs; otherwise serialized once here.
                frame ??= _replays > 0 ? Frames.Get(e) : EventJson.Frame(e);
                var write = _traceWrites && activity is not null ? StartWriteActivity(activity, session) : null;
                var measure = _measurePending ? acceptedAt : 0;
                if (!session.TryEnqueueEvent(frame, e.Seq, ring: false, measure, write))
                {
                    write?.Dispose();
                    StartCatchUpLocked(session, e.Seq);
                    continue;
                }

                _measurePending &= measure == 0;
                if (!session.RingDeferred)
                {
                    session.RingDeferred = true;
                    _unrung.Add(session);
                }

                delivered++;
            }
        }

        GatewayTelemetry.Deliveries.Add(delivered);
        activity?.SetTag(GatewayTelemetry.SocketsTag, delivered);
    }

    private Activity? StartDeliverActivity(EventEnvelope e)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(e.TraceParent, null, out var ingest);
        Activity? activity;
        if (_dispatchingFill)
        {
            // Read back from the log, perhaps long after: its own trace, linked to the one it was ingested under. The
            // fill loop's current span (the call that started it) is put back after.
            var current = Activity.Current;
            activity = TraceLinks.StartRoot(GatewayTelemetry.Source, GatewayTelemetry.DeliverSpan, ActivityKind.Producer, TraceLinks.To(e.TraceParent));
            activity?.SetTag(GatewayTelemetry.ReasonTag, "gap-fill");
            Activity.Current = current;
        }
        else
        {
            // Under the push that brought it when that push was of the same trace (it is for the batch's first event);
            // otherwise under the ingest span, so one trace still shows POST → grain → sockets.
            var parent = _pushSpan != default && _pushSpan.TraceId == ingest.TraceId ? _pushSpan : ingest;
            activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.DeliverSpan, ActivityKind.Producer, parent);
        }

        activity?.SetTag(GatewayTelemetry.CustomerTag, e.Customer);
        activity?.SetTag(GatewayTelemetry.SeqTag, e.Seq);
        activity?.SetTag(GatewayTelemetry.EventIdTag, e.Id);
        return activity;
    }

    /// <summary>A socket write's span: started as the frame is queued, stopped by the send loop once it is written.</summary>
    private static Activity? StartWriteActivity(Activity delivery, SocketSession session)
    {
        var write = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.SocketWriteSpan, ActivityKind.Producer, delivery.Context);
        write?.SetTag(GatewayTelemetry.SessionTag, session.Id);
        // Starting made it the current activity; the next socket's span is the delivery's child too, not this one's.
        Activity.Current = delivery;
        return write;
    }
}
