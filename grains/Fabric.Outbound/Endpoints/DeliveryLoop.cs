using System.Diagnostics;
using Fabric.Contracts;
using Microsoft.Extensions.Logging;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// An endpoint's delivery loop: take new events from the log while there is room, start the attempts that are due, move
/// the cursor past what settled, save, and wait for whichever comes first — an attempt ending, an append, a call, the
/// next due attempt. One loop at a time, on the grain's scheduler, interleaving with its calls at the awaits.
/// </summary>
internal sealed partial class DeliveryLoop(
    string endpoint,
    Func<EndpointState> current,
    ICustomerGrain customerLog,
    DeliverySchedule schedule,
    EndpointStore store,
    EndpointLedger ledger,
    TimeProvider time,
    ILogger logger,
    Func<Message, bool, Task> attempt,
    Func<Task> keepReminder,
    Backoff retry,
    CancellationToken stopping)
{
    private const int PageSize = 256;

    private TaskCompletionSource? _wake;
    private Task? _pump;
    private Task? _saveDue;
    private long _lastReport;
    private long _reported = -1;
    private TopicFilter? _topics;

    private EndpointState State => current();

    /// <summary>The endpoint's topics changed: the filter is made again.</summary>
    public void TopicsChanged() => _topics = null;

    /// <summary>Rings the loop, starting it when it is not running.</summary>
    public void Wake()
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
        var failures = 0;
        while (!stopping.IsCancellationRequested && State.Config is { } config)
        {
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            TimeSpan? wait;
            try
            {
                var now = time.GetUtcNow();
                if (config.Enabled)
                {
                    await FillAsync(now);
                    // Started after the choice: an attempt that settles at once changes the open set being walked.
                    foreach (var (message, manual) in schedule.TakeDue(now))
                    {
                        _ = attempt(message, manual);
                    }
                }

                AdvanceCursor();
                await keepReminder();
                await store.SaveDueAsync();
                wait = schedule.NextWait(time.GetUtcNow());
                failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A log read or a save failed (a silo or Redis away): try again shortly; nothing settled is lost.
                Log.PumpFailed(logger, ex, endpoint);
                wait = retry.Delay(++failures);
            }

            if (wait != TimeSpan.Zero)
            {
                await WaitAsync(wait);
            }
        }
    }

    /// <summary>
    /// Waits for a wake-up, the next due attempt (Fabric's clock: tests move it) or, while something is unsaved, the
    /// next save (real time). The save timer is kept across turns: the loop turns about twice per delivery.
    /// </summary>
    private async Task WaitAsync(TimeSpan? wait)
    {
        if (store.NextSave() is { } left && (_saveDue is null || _saveDue.IsCompleted))
        {
            _saveDue = Task.Delay(left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1), stopping);
        }

        var save = store.Unsaved ? _saveDue : null;
        if (wait is not { } w)
        {
            await (save is null ? _wake!.Task : Task.WhenAny(_wake!.Task, save));
            return;
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var due = Task.Delay(w, time, cancel.Token);
        await (save is null ? Task.WhenAny(_wake!.Task, due) : Task.WhenAny(_wake!.Task, due, save));
        await cancel.CancelAsync();
    }

    /// <summary>Takes events after <see cref="EndpointState.ReadThrough"/> while there is room.</summary>
    private async Task FillAsync(DateTimeOffset now)
    {
        while (schedule.WantsToRead)
        {
            var page = await customerLog.GetSince(State.ReadThrough, State.Config!.Ordered ? DeliverySchedule.ReadAhead : PageSize);
            if (State.Config is null)
            {
                return;
            }

            if (AdoptEpoch(page.Epoch, now))
            {
                // Positions moved back to where the log's history still agrees: read again from there.
                continue;
            }

            schedule.KnownLast = page.LastSeq;
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
                    schedule.Open(e, now);
                }

                State.ReadThrough = e.Seq;
            }

            store.Changed();
        }
    }

    /// <summary>
    /// The log started a new epoch: positions past where it forked named events the log no longer has. Those still
    /// pending fail as <c>lost</c>; reading goes on from the fork, where the new epoch's events begin. Only an epoch
    /// change moves positions back: within one epoch a page may even run ahead of the head it reports.
    /// </summary>
    private bool AdoptEpoch(LogEpoch epoch, DateTimeOffset now)
    {
        if (State.Epoch == epoch.Id)
        {
            return false;
        }

        var valid = State.Epoch is null ? long.MaxValue : epoch.ValidUpTo(State.Epoch);
        var moved = State.ReadThrough > valid;
        if (moved)
        {
            foreach (var message in schedule.OpenAfter(valid))
            {
                ledger.Settle(message, failed: true, "lost", now);
            }

            Log.Lost(logger, endpoint, valid + 1, State.ReadThrough, "lost");
            State.ReadThrough = valid;
            State.Cursor = Math.Min(State.Cursor, valid);
        }

        State.Epoch = epoch.Id;
        store.Changed(urgent: true);
        return moved;
    }

    /// <summary>A range the log no longer holds: one failed entry says so.</summary>
    private void Lose(long first, long last, string reason, DateTimeOffset now)
    {
        if (last >= first)
        {
            Log.Lost(logger, endpoint, first, last, reason);
            ledger.Lose(first, last, reason, now);
        }
    }

    /// <summary>Moves the cursor past everything settled; only a saved cursor is reported to the customer's grain.</summary>
    private void AdvanceCursor()
    {
        if (schedule.AdvanceCursor())
        {
            store.Changed();
        }

        var saved = store.SavedCursor;
        if (saved != _reported && (saved >= schedule.KnownLast || Stopwatch.GetElapsedTime(_lastReport) >= TimeSpan.FromSeconds(1)))
        {
            _reported = saved;
            _lastReport = Stopwatch.GetTimestamp();
            _ = customerLog.EndpointProgress(endpoint, saved);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4, LogLevel.Warning, "Endpoint {Endpoint}: events {First}..{Last} left the log before delivery ({Reason})")]
        public static partial void Lost(ILogger logger, string endpoint, long first, long last, string reason);

        [LoggerMessage(5, LogLevel.Warning, "Endpoint {Endpoint}: delivery loop failed; it starts again")]
        public static partial void PumpFailed(ILogger logger, Exception exception, string endpoint);
    }
}
