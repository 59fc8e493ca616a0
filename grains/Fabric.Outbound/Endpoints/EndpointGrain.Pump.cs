using System.Diagnostics;
using Fabric.Contracts;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// The delivery loop: take new events from the log while there is room, start the attempts that are due (in seq order;
/// ordered endpoints one at a time), move the cursor past what settled, save, and wait for whichever comes first — an
/// attempt ending, an append, a call, the next due attempt.
/// </summary>
internal sealed partial class EndpointGrain
{
    private const int PageSize = 256;
    private const string DeliverReminder = "deliver";

    private TaskCompletionSource? _wake;
    private Task? _pump;
    private long _knownLast = long.MaxValue;
    private bool _dirty;
    private bool _urgent;
    private long _lastSave;
    private long _lastReport;
    private long _reported = -1;
    private long _savedCursor = -1;
    private bool _reminderOn;
    private int _inFlight;
    private double _tokens;
    private DateTimeOffset _tokensAt;
    private TopicFilter? _topics;

    // Events read but not attempted yet, so a first attempt does not read the log again; dropped after it.
    private readonly Dictionary<long, EventEnvelope> _bodies = [];

    /// <summary>Rings the loop, starting it when it is not running.</summary>
    private void Wake()
    {
        if (_pump is null || _pump.IsCompleted)
        {
            _pump = PumpAsync();
        }
        else
        {
            _wake?.TrySetResult();
        }
    }

    private async Task PumpAsync()
    {
        // Runs on the activation's scheduler; the first await hands the turn back to the caller that woke it.
        await Task.Yield();
        while (!_stopping.IsCancellationRequested && State.Config is { } config)
        {
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            TimeSpan? wait;
            try
            {
                var now = _time.GetUtcNow();
                if (config.Enabled)
                {
                    await FillAsync(now);
                    Dispatch(now);
                }

                AdvanceCursor();
                await KeepReminderAsync();
                if (_dirty && (_urgent || Stopwatch.GetElapsedTime(_lastSave) >= _options.SaveInterval))
                {
                    await SaveAsync();
                }

                if (_historyDirty && Stopwatch.GetElapsedTime(_lastHistorySave) >= _options.HistorySaveInterval)
                {
                    await SaveHistoryAsync();
                }

                wait = NextWait(_time.GetUtcNow());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A log read or a save failed (a silo or Redis away): try again shortly; nothing settled is lost.
                Log.PumpFailed(_logger, ex, Key.Endpoint);
                wait = TimeSpan.FromSeconds(1);
            }

            if (wait == TimeSpan.Zero)
            {
                continue;
            }

            await WaitAsync(wait);
        }
    }

    /// <summary>
    /// Waits for a wake-up, the next due attempt (Fabric's clock: tests move it) or, while something is unsaved, the
    /// next save (real time). The save timer is kept across turns: the loop turns about twice per delivery.
    /// </summary>
    private async Task WaitAsync(TimeSpan? wait)
    {
        if (NextSave() is { } left && (_saveDue is null || _saveDue.IsCompleted))
        {
            _saveDue = Task.Delay(left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1), _stopping.Token);
        }

        var save = _dirty || _historyDirty ? _saveDue : null;
        if (wait is not { } w)
        {
            await (save is null ? _wake!.Task : Task.WhenAny(_wake!.Task, save));
            return;
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var due = Task.Delay(w, _time, cancel.Token);
        await (save is null ? Task.WhenAny(_wake!.Task, due) : Task.WhenAny(_wake!.Task, due, save));
        await cancel.CancelAsync();
    }

    private Task? _saveDue;

    /// <summary>How long until the next save of what is unsaved, or null when all is saved.</summary>
    private TimeSpan? NextSave()
    {
        TimeSpan? state = _dirty ? _options.SaveInterval - Stopwatch.GetElapsedTime(_lastSave) : null;
        TimeSpan? history = _historyDirty ? _options.HistorySaveInterval - Stopwatch.GetElapsedTime(_lastHistorySave) : null;
        return state is { } s && history is { } h ? (s < h ? s : h) : state ?? history;
    }

    /// <summary>
    /// Whether to take more from the log: up to a window of events not attempted yet (the rest wait in the log, which
    /// is the outbox), and never past <see cref="OutboundOptions.MaxPendingMessages"/> unsettled. An ordered endpoint
    /// reads only a little ahead of the event it is on.
    /// </summary>
    private bool HasRoom => State.Config is { } config && (config.Ordered
        ? _open.Count < ReadAhead
        : _bodies.Count < Math.Max(ReadAhead, 2 * config.MaxConcurrency) && _open.Count < _options.MaxPendingMessages);

    private const int ReadAhead = 32;

    /// <summary>Takes events after <see cref="EndpointState.ReadThrough"/> while there is room.</summary>
    private async Task FillAsync(DateTimeOffset now)
    {
        while (State.ReadThrough < _knownLast && HasRoom)
        {
            var page = await CustomerGrain.GetSince(State.ReadThrough, State.Config!.Ordered ? ReadAhead : PageSize);
            if (State.Config is null)
            {
                return;
            }

            if (AdoptEpoch(page.Epoch, now))
            {
                // Positions moved back to where the log's history still agrees: read again from there.
                continue;
            }

            _knownLast = page.LastSeq;
            var first = page.Events.Count > 0 ? page.Events[0].Seq : page.FirstRetainedSeq;
            if (first > State.ReadThrough + 1 && !page.Complete)
            {
                // Trimmed before this endpoint read it: past the hold-back bound (see CustomerOptions.EndpointHoldMaxEvents).
                Lose(State.ReadThrough + 1, Math.Min(first, page.LastSeq + 1) - 1, "expired", now);
            }

            if (page.Events.Count == 0)
            {
                State.ReadThrough = Math.Max(State.ReadThrough, Math.Min(page.LastSeq, first - 1));
                return;
            }

            var topics = _topics ??= TopicFilter.Of(State.Config!.Topics);
            foreach (var e in page.Events)
            {
                if (topics.Matches(e.Type))
                {
                    _open[e.Seq] = new Message { EventId = e.Id, Seq = e.Seq, Due = now };
                    _bodies[e.Seq] = e;
                }

                State.ReadThrough = e.Seq;
            }

            _dirty = true;
        }
    }

    /// <summary>Starts every attempt that is due, within the endpoint's concurrency and rate.</summary>
    private void Dispatch(DateTimeOffset now)
    {
        var config = State.Config!;
        var room = Concurrency(config) - _inFlight;
        var chosen = new List<(Message Message, bool Manual)>();
        foreach (var candidate in Candidates(config))
        {
            if (chosen.Count >= room)
            {
                break;
            }

            if (candidate.Message.Due <= now && TakeToken(now))
            {
                chosen.Add(candidate);
            }
        }

        // Started after the choice: an attempt that settles at once changes the open set being walked.
        foreach (var (message, manual) in chosen)
        {
            _ = AttemptAsync(message, manual);
        }
    }

    /// <summary>
    /// The messages that may be attempted next, in the order they go: retries and recoveries first, then the open
    /// ones in seq order — for an ordered endpoint only the oldest open one, since nothing after it goes before it has
    /// settled. Messages in flight are passed over.
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
    private bool TakeToken(DateTimeOffset now)
    {
        if (State.Config!.RateLimitPerSecond is not { } rate)
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

    /// <summary>How long until the loop has something to do; zero when it has now, null when only a wake-up will.</summary>
    private TimeSpan? NextWait(DateTimeOffset now)
    {
        var config = State.Config;
        if (config is null || !config.Enabled)
        {
            return null;
        }

        if (State.ReadThrough < _knownLast && HasRoom)
        {
            return TimeSpan.Zero;
        }

        if (_inFlight >= Concurrency(config))
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

        // A due attempt the loop could not start (no token yet) waits for the clock, never spins.
        return next <= now ? TimeSpan.FromMilliseconds(config.RateLimitPerSecond is null ? 0 : 1) : next - now;
    }

    /// <summary>Moves the cursor past everything settled and tells the customer's grain, which may then trim up to it.</summary>
    private void AdvanceCursor()
    {
        var cursor = _open.Count > 0 ? _open.First().Key - 1 : State.ReadThrough;
        if (cursor != State.Cursor)
        {
            State.Cursor = cursor;
            _dirty = true;
        }

        // Only a saved cursor: a crash goes back to it, and the log must still hold what follows it.
        if (_savedCursor != _reported && (_savedCursor >= _knownLast || Stopwatch.GetElapsedTime(_lastReport) >= TimeSpan.FromSeconds(1)))
        {
            _reported = _savedCursor;
            _lastReport = Stopwatch.GetTimestamp();
            _ = CustomerGrain.EndpointProgress(Key.Endpoint, _savedCursor);
        }
    }
}
