using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Gateway.Api;
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
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopped;
    private long _released;
    private long _knownLast;
    private bool _filling;

    public CustomerFeed(string customer, ICustomerGrain grain, SocketOptions options, ILogger logger)
    {
        Customer = customer;
        _grain = grain;
        _options = options;
        _logger = logger;
    }

    public string Customer { get; }

    /// <summary>Completes once the grain has told the feed where its stream stands.</summary>
    public Task Ready => _ready.Task;

    /// <summary>True once the last socket left; background work for the feed ends.</summary>
    public bool IsStopped => _stopped;

    public int SessionCount
    {
        get { lock (_lock) { return _sessions.Count; } }
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
            return _sessions.Count == 0;
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

    /// <summary>The grain accepted (or renewed) this gateway's registration and reported its newest seq.</summary>
    public void OnRegistered(long lastSeq)
    {
        lock (_lock)
        {
            if (!_ready.Task.IsCompleted)
            {
                // Everything up to lastSeq predates this feed; sockets that want it read it from history.
                _released = lastSeq;
                DropPendingLocked(seq => seq <= lastSeq);
            }
            else if (lastSeq < _released)
            {
                // Either the customer's log lost events (a non-durable log restarted) or this reply is older than a
                // push that overtook it: reply and push travel separately. A fresh read tells which.
                _ = VerifyLogWentBackAsync(_released);
            }

            _knownLast = Math.Max(_knownLast, lastSeq);
            ReleaseLocked();
            StartFillIfGapLocked();

            // Inside the lock, so a push cannot slip between "registered" and "ready" and sit unreleased.
            _ready.TrySetResult();
        }
    }

    /// <summary>
    /// Reads the grain's position after having released <paramref name="released"/>: that event was kept before it
    /// was pushed, so a log still behind it has really gone back, and seqs will be reused: start over from the grain's
    /// position and make live sockets resume. An unreachable grain is asked again at the next renewal.
    /// </summary>
    private async Task VerifyLogWentBackAsync(long released)
    {
        EventPage page;
        try
        {
            page = await _grain.GetSince(released, 0);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return;
        }

        lock (_lock)
        {
            if (page.LastSeq < released && page.LastSeq < _released)
            {
                RestartFromLocked(page.LastSeq);
            }
        }
    }

    private void RestartFromLocked(long lastSeq)
    {
        Log.LogWentBack(_logger, Customer, _released, lastSeq);
        foreach (var session in _sessions)
        {
            if (session.Started)
            {
                session.RequestClose(CloseCodes.Resync, "event log restarted");
            }
        }

        _released = lastSeq;
        _knownLast = lastSeq;
        _pending.Clear();
    }

    /// <summary>Swaps a socket's topics under the feed lock, so no event matched by the old set follows the reply.</summary>
    public void Unsubscribe(SocketSession session, string[] topics)
    {
        lock (_lock)
        {
            session.Topics = session.Topics.Without(topics);
            session.Send(new UnsubscribedFrame(topics, session.Topics.Topics), ApiJsonContext.Default.UnsubscribedFrame);
        }
    }

    /// <summary>A push from the grain.</summary>
    public void OnEvents(IReadOnlyList<EventEnvelope> events)
    {
        lock (_lock)
        {
            foreach (var e in events)
            {
                if (e.Seq > _released)
                {
                    _pending[e.Seq] = e;
                    _knownLast = Math.Max(_knownLast, e.Seq);
                }
            }

            if (_ready.Task.IsCompleted)
            {
                ReleaseLocked();
                StartFillIfGapLocked();
            }
        }
    }

    /// <summary>Removes pending events whose seq the predicate selects, in one pass over the keys.</summary>
    private void DropPendingLocked(Func<long, bool> drop)
    {
        foreach (var seq in _pending.Keys.Where(drop).ToArray())
        {
            _pending.Remove(seq);
        }
    }

    private void ReleaseLocked()
    {
        while (_pending.Remove(_released + 1, out var e))
        {
            _released = e.Seq;
            DispatchLocked(e);
        }
    }

    /// <summary>Hands one event to every live socket past it; the frame is serialized once for all of them.</summary>
    private void DispatchLocked(EventEnvelope e)
    {
        using var activity = StartDeliverActivity(e);
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
                frame ??= EventJson.Frame(e);
                session.Enqueue(frame);
                delivered++;
            }
        }

        GatewayTelemetry.Deliveries.Add(delivered);
        activity?.SetTag(GatewayTelemetry.SocketsTag, delivered);
    }

    private static Activity? StartDeliverActivity(EventEnvelope e)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        // The delivery joins the trace the event was ingested under, so one trace shows POST → grain → sockets.
        ActivityContext.TryParse(e.TraceParent, null, out var parent);
        var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.DeliverSpan, ActivityKind.Producer, parent);
        activity?.SetTag(GatewayTelemetry.CustomerTag, e.Customer);
        activity?.SetTag(GatewayTelemetry.SeqTag, e.Seq);
        activity?.SetTag(GatewayTelemetry.EventIdTag, e.Id);
        return activity;
    }
}
