using Fabric.Contracts;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// What an endpoint attempts next, and when: the open messages (taken from the log, not settled) in seq order, the
/// manual ones (retries and recoveries), the attempts in flight, the endpoint's rate as a token bucket, and the cursor
/// past everything settled. Pure: no I/O and no clock of its own; the grain passes the time in.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed class DeliverySchedule(Func<EndpointState> current, int maxPending)
{
    /// <summary>How far ahead of its attempts an endpoint reads the log (an ordered one, of the event it is on).</summary>
    public const int ReadAhead = 32;

    private readonly SortedDictionary<long, Message> _open = [];

    // Events read but not attempted yet, so a first attempt does not read the log again; dropped after it.
    private readonly Dictionary<long, EventEnvelope> _bodies = [];
    private double _tokens;
    private DateTimeOffset _tokensAt;

    // Read at each use: the grain's state object is replaced when its record is cleared.
    private EndpointState State => current();

    /// <summary>The log's last seq as last heard (unknown until then: the loop reads to find out).</summary>
    public long KnownLast { get; set; } = long.MaxValue;

    public int InFlight { get; private set; }

    public int OpenCount => _open.Count;

    /// <summary>Taken and unsettled, then manual, for the attempt log's pending list.</summary>
    public IEnumerable<Message> Pending => State.Manual.Concat(_open.Values);

    /// <summary>Open messages as they are to be saved.</summary>
    public List<Message> OpenToSave() => [.. _open.Values];

    /// <summary>Something to do: an attempt in flight, or (while enabled) a message or an unread event waiting.</summary>
    public bool HasWork => InFlight > 0
        || (State.Config is { Enabled: true } && (_open.Count > 0 || State.Manual.Count > 0 || State.ReadThrough < KnownLast));

    /// <summary>
    /// Whether to take more from the log: up to a window of events not attempted yet (the rest wait in the log, which is
    /// the outbox), and never past the most pending messages allowed. An ordered endpoint reads only a little ahead.
    /// </summary>
    public bool HasRoom => State.Config is { } config && (config.Ordered
        ? _open.Count < ReadAhead
        : _bodies.Count < Math.Max(ReadAhead, 2 * config.MaxConcurrency) && _open.Count < maxPending);

    public bool WantsToRead => State.ReadThrough < KnownLast && HasRoom;

    public void Restore(IEnumerable<Message> open)
    {
        foreach (var message in open)
        {
            _open[message.Seq] = message;
        }
    }

    /// <summary>A matching event taken from the log: open, due now, its body kept for the first attempt.</summary>
    public void Open(EventEnvelope e, DateTimeOffset now)
    {
        _open[e.Seq] = new Message { EventId = e.Id, Seq = e.Seq, Due = now };
        _bodies[e.Seq] = e;
    }

    public bool TryTakeBody(long seq, out EventEnvelope? body) => _bodies.Remove(seq, out body);

    /// <summary>Removes a settled message from the open set: only this very one (a manual one may share its seq).</summary>
    public void Close(Message message)
    {
        if (_open.TryGetValue(message.Seq, out var open) && ReferenceEquals(open, message))
        {
            _open.Remove(message.Seq);
            _bodies.Remove(message.Seq);
        }
    }

    public void Clear()
    {
        _open.Clear();
        _bodies.Clear();
    }

    /// <summary>Every open message is due at <paramref name="now"/> (a re-enabled endpoint tries them again at once).</summary>
    public void AllDue(DateTimeOffset now)
    {
        foreach (var message in _open.Values)
        {
            message.Due = now;
        }
    }

    /// <summary>The open messages past <paramref name="valid"/> that are not in flight: a new epoch lost them.</summary>
    public List<Message> OpenAfter(long valid) => [.. _open.Values.Where(m => m.Seq > valid && !m.InFlight)];

    public bool IsPending(string eventId) =>
        State.Manual.Any(m => m.EventId == eventId) || _open.Values.Any(m => m.EventId == eventId);

    /// <summary>
    /// The attempts to start now, within the endpoint's concurrency and rate, in the order they go; each is marked in
    /// flight until <see cref="Ended"/>.
    /// </summary>
    public List<(Message Message, bool Manual)> TakeDue(DateTimeOffset now)
    {
        var config = State.Config!;
        var room = Concurrency(config) - InFlight;
        var chosen = new List<(Message Message, bool Manual)>();
        foreach (var candidate in Candidates(config))
        {
            if (chosen.Count >= room)
            {
                break;
            }

            if (candidate.Message.Due <= now && TakeToken(config, now))
            {
                chosen.Add(candidate);
            }
        }

        foreach (var (message, _) in chosen)
        {
            message.InFlight = true;
            InFlight++;
        }

        return chosen;
    }

    /// <summary>An attempt ended, whatever its outcome.</summary>
    public void Ended(Message message)
    {
        message.InFlight = false;
        InFlight--;
    }

    /// <summary>How long until there is something to do; zero when there is now, null when only a wake-up will bring it.</summary>
    public TimeSpan? NextWait(DateTimeOffset now)
    {
        var config = State.Config;
        if (config is null || !config.Enabled)
        {
            return null;
        }

        if (WantsToRead)
        {
            return TimeSpan.Zero;
        }

        if (InFlight >= Concurrency(config))
        {
            return null;
        }

        var next = Candidates(config).Min(c => c.Message.Due);
        if (next is null)
        {
            return null;
        }

        if (config.RateLimitPerSecond is { } rate && _tokens < 1)
        {
            var refill = _tokensAt + TimeSpan.FromSeconds((1 - _tokens) / rate);
            next = refill > next ? refill : next;
        }

        // A due attempt that could not start (no token yet) waits for the clock, never spins.
        return next <= now ? TimeSpan.FromMilliseconds(config.RateLimitPerSecond is null ? 0 : 1) : next - now;
    }

    /// <summary>Moves the cursor past everything settled; true when it moved.</summary>
    public bool AdvanceCursor()
    {
        var cursor = _open.Count > 0 ? _open.First().Key - 1 : State.ReadThrough;
        if (cursor == State.Cursor)
        {
            return false;
        }

        State.Cursor = cursor;
        return true;
    }

    /// <summary>
    /// The messages that may be attempted next, in the order they go: manual ones first, then the open ones in seq
    /// order — for an ordered endpoint only the oldest open one, since nothing after it goes before it has settled.
    /// Messages in flight are passed over.
    /// </summary>
    private IEnumerable<(Message Message, bool Manual)> Candidates(EndpointRecord config)
    {
        foreach (var message in State.Manual)
        {
            if (!message.InFlight)
            {
                yield return (message, true);
            }
        }

        foreach (var message in _open.Values)
        {
            if (!message.InFlight)
            {
                yield return (message, false);
            }

            if (config.Ordered)
            {
                yield break;
            }
        }
    }

    private static int Concurrency(EndpointRecord config) => config.Ordered ? 1 : config.MaxConcurrency;

    /// <summary>The endpoint's rate as a token bucket holding one second's worth.</summary>
    private bool TakeToken(EndpointRecord config, DateTimeOffset now)
    {
        if (config.RateLimitPerSecond is not { } rate)
        {
            return true;
        }

        _tokens = Math.Min(rate, _tokens + ((now - _tokensAt).TotalSeconds * rate));
        _tokensAt = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }
}
