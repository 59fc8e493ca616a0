using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Gateway.Events;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// This gateway's view of one customer's event stream and the sockets that read it. Its lock orders everything: the
/// <see cref="SeqReleaser"/> decides which events go out and in what order, the feed hands each to every live socket
/// past it, and <see cref="FeedHistory"/> reads from the grain what pushes did not bring and positions sockets from
/// the log.
/// </summary>
internal sealed partial class CustomerFeed : SeqReleaser.ITarget
{
    private readonly Lock _lock = new();
    private readonly ILogger _logger;
    private readonly List<FeedMember> _members = [];
    private readonly PresenceWatchers _watchers = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SeqReleaser _releaser;
    private readonly FeedHistory _history;
    private volatile bool _stopped;
    private bool _renewalRequested;

    // Sockets Release queued frames for without waking their send loops; ReleaseEnded rings them, so a push of many
    // events leaves as one coalesced write per socket instead of a wake (and a write) per frame.
    private readonly List<FeedMember> _unrung = [];

    // Whether this release's end-to-end measure is still to be handed to a socket (its first live frame written): one
    // measure per release, not per socket write.
    private bool _measurePending = true;

    // Tracing: a span per socket write for this customer (Fabric:Telemetry:DebugCustomers), and the push span of the
    // batch being released, parent of the deliveries of its events.
    private readonly bool _traceWrites;
    private ActivityContext _pushSpan;

    public CustomerFeed(string customer, ICustomerGrain grain, SocketOptions options, ILogger logger, bool traceWrites = false, TimeProvider? clock = null)
    {
        Customer = customer;
        _logger = logger;
        _traceWrites = traceWrites;
        Frames = new FrameCache(options.FrameCacheBytes);
        _releaser = new SeqReleaser(options.PendingMaxBytes, this);
        _history = new FeedHistory(this, grain, options, logger, clock ?? TimeProvider.System);
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
        get { lock (_lock) { return _releaser.PendingBytes; } }
    }

    /// <summary>The lock <see cref="FeedHistory"/> takes to touch the releaser and the members.</summary>
    internal Lock Gate => _lock;

    internal SeqReleaser Releaser => _releaser;

    /// <summary>
    /// Raised (outside the feed's lock) when a push contradicts what the feed knows: another event at a released seq, or
    /// an epoch older than the feed's. The registry renews at once, so the grain sees the witness and the feed the
    /// grain's current epoch, instead of both waiting for the next renewal.
    /// </summary>
    public event Action<CustomerFeed>? RenewalNeeded;

    public FeedMember Add(SocketSession session)
    {
        var member = new FeedMember(this, session);
        lock (_lock)
        {
            _members.Add(member);
        }

        return member;
    }

    /// <summary>Removes a socket; true when it was the last one.</summary>
    public bool Remove(FeedMember member)
    {
        lock (_lock)
        {
            _members.Remove(member);
            _watchers.Remove(member.Session, member.Watching);
            return _members.Count == 0;
        }
    }

    public FeedMember[] Members()
    {
        lock (_lock)
        {
            return [.. _members];
        }
    }

    public void Stop() => _stopped = true;

    /// <summary>The socket hears joins and leaves in <paramref name="topics"/> too.</summary>
    public void Watch(FeedMember member, IReadOnlyList<string> topics)
    {
        lock (_lock)
        {
            _watchers.Add(member.Session, topics);
            member.Watching = [.. member.Watching.Union(topics, StringComparer.Ordinal)];
        }
    }

    /// <summary>The socket no longer hears joins and leaves in <paramref name="topics"/>.</summary>
    public void Unwatch(FeedMember member, IReadOnlyList<string> topics)
    {
        lock (_lock)
        {
            if (member.Watching.Count > 0)
            {
                _watchers.Remove(member.Session, topics);
                member.Watching = [.. member.Watching.Except(topics, StringComparer.Ordinal)];
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

    /// <summary>Positions a socket from <paramref name="since"/> (or from now) and adds its topics: see <see cref="FeedHistory.SubscribeAsync"/>.</summary>
    public Task SubscribeAsync(FeedMember member, string[] topics, long? since, string? epoch, string? @ref) =>
        _history.SubscribeAsync(member, topics, since, epoch, @ref);

    /// <summary>Swaps a socket's topics under the feed lock, so no event matched by the old set follows the reply.</summary>
    public void Unsubscribe(FeedMember member, string[] topics, string? @ref)
    {
        lock (_lock)
        {
            member.Topics = member.Topics.Without(topics);
            SocketReplies.Unsubscribed(member.Session, topics, member.Topics.Topics, @ref);
        }
    }

    /// <summary>The last event this feed released, for the grain to check against its log (see <see cref="SeqReleaser.Witness"/>).</summary>
    public LogPosition? Witness()
    {
        lock (_lock)
        {
            return _releaser.Witness();
        }
    }

    /// <summary>A push from the grain.</summary>
    public void OnEvents(EventBatch batch)
    {
        bool renew;
        lock (_lock)
        {
            ActivityContext.TryParse(batch.TraceParent, null, out _pushSpan);
            renew = _releaser.OnPush(batch);
            _pushSpan = default;
            if (_releaser.Registered)
            {
                _history.StartFillIfGapLocked();
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

    /// <summary>The grain accepted (or renewed) this gateway's registration and reported its newest seq and epoch.</summary>
    public void OnRegistered(Registration registration)
    {
        lock (_lock)
        {
            _renewalRequested = false;
            _releaser.OnRegistered(registration);
            _history.StartFillIfGapLocked();

            // Inside the lock, so a push cannot slip between "registered" and "ready" and sit unreleased.
            _ready.TrySetResult();
        }
    }

    /// <summary>Closes every positioned socket with 4101: they resume from their last seq and learn what was lost.</summary>
    internal void CloseStartedLocked(string reason)
    {
        foreach (var member in _members)
        {
            if (member.Started)
            {
                member.Session.RequestClose(CloseCodes.Resync, reason);
            }
        }
    }

    /// <summary>Hands one event to every live socket past it; the frame is serialized once for all of them.</summary>
    void SeqReleaser.ITarget.Release(EventEnvelope e, bool fromLog)
    {
        using var activity = StartDeliverActivity(e, fromLog);
        // Accepted-to-written latency is measured for live pushes only: a gap fill's events were due earlier.
        var acceptedAt = fromLog ? 0 : e.Time.ToUnixTimeMilliseconds();
        byte[]? frame = null;
        var delivered = 0;
        foreach (var member in _members)
        {
            if (!member.Live || e.Seq <= member.Cursor)
            {
                continue;
            }

            member.Cursor = e.Seq;
            if (member.Topics.Matches(e.Type))
            {
                // Shared with replays through the cache while any runs; otherwise serialized once here.
                frame ??= _history.Replaying ? Frames.Get(e) : EventJson.Frame(e);
                var write = _traceWrites && activity is not null ? StartWriteActivity(activity, member.Session) : null;
                var measure = _measurePending ? acceptedAt : 0;
                if (!member.Session.TryEnqueueEvent(frame, e.Seq, ring: false, measure, write))
                {
                    write?.Dispose();
                    _history.StartCatchUpLocked(member, e.Seq);
                    continue;
                }

                _measurePending &= measure == 0;
                if (!member.RingDeferred)
                {
                    member.RingDeferred = true;
                    _unrung.Add(member);
                }

                delivered++;
            }
        }

        GatewayTelemetry.Deliveries.Add(delivered);
        activity?.SetTag(GatewayTelemetry.SocketsTag, delivered);
    }

    /// <summary>Each socket's send loop wakes once per release, to everything it got.</summary>
    void SeqReleaser.ITarget.ReleaseEnded()
    {
        foreach (var member in _unrung)
        {
            member.RingDeferred = false;
            member.Session.Ring();
        }

        _unrung.Clear();
        _measurePending = true;
    }

    /// <summary>
    /// The log is in another epoch than the one this feed released from. Sockets positioned above its base are closed
    /// with 4101 (they resume, and <c>recovered:false</c> tells them why); sockets at or below it carry on.
    /// </summary>
    void SeqReleaser.ITarget.Forked(long released, long validUpTo)
    {
        Log.EpochChanged(_logger, Customer, released, Math.Min(validUpTo, released));
        Frames.Clear();
        foreach (var member in _members)
        {
            if (member.Started && member.Cursor > validUpTo)
            {
                member.Session.RequestClose(CloseCodes.Resync, "event log restarted");
            }
        }
    }

    /// <summary>
    /// Retention dropped events this gateway never received. No socket can get them any more: live sockets are closed
    /// with 4101 so they resume with <c>since</c> and learn from <c>recovered: false</c> that something was lost.
    /// </summary>
    void SeqReleaser.ITarget.Lost(long from, long to)
    {
        Log.GapLost(_logger, Customer, from, to);
        foreach (var member in _members)
        {
            if (member.Live && member.Cursor < to)
            {
                member.Session.RequestClose(CloseCodes.Resync, "gap could not be filled");
            }
        }
    }

    private Activity? StartDeliverActivity(EventEnvelope e, bool fromLog)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(e.TraceParent, null, out var ingest);
        Activity? activity;
        if (fromLog)
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

    private static partial class Log
    {
        [LoggerMessage(201, LogLevel.Warning, "Customer {Customer}: seqs {From}..{To} left retention before this gateway received them")]
        public static partial void GapLost(ILogger logger, string customer, long from, long to);

        [LoggerMessage(202, LogLevel.Warning, "Customer {Customer}: the event log moved to a new epoch forking at seq {Base}; this gateway had released {Released}; sockets above the fork resume")]
        public static partial void EpochChanged(ILogger logger, string customer, long released, long @base);
    }
}
