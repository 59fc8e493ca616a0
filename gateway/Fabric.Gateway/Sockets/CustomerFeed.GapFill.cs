using Fabric.Contracts;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Gap filling: reading from the grain what pushes did not bring, so the feed releases every seq in order, and telling
/// sockets to resync when that cannot be done. (Positioning a socket from history is in <c>CustomerFeed.Replay.cs</c>.)
/// </summary>
internal sealed partial class CustomerFeed
{
    private const int PageSize = 1000;

    // A page that does not start where the feed stands: read again after a pause, not in a tight loop.
    private static readonly Backoff NoProgressRetry = Backoff.Fixed(TimeSpan.FromMilliseconds(200));

    private void StartFillIfGapLocked()
    {
        if (!_filling && _knownLast > _released && !_stopped)
        {
            _filling = true;
            _ = FillGapsAsync();
        }
    }

    /// <summary>
    /// Reads from the grain what the pushes have not brought, until the feed has released everything it knows of.
    /// Retries while the grain is unreachable, for as long as the feed has sockets.
    /// </summary>
    private async Task FillGapsAsync()
    {
        try
        {
            await FillGapsLoopAsync();
        }
        catch (Exception ex)
        {
            // Only a fault while releasing gets here (reads retry inside the loop). Clear the flag so the next push
            // starts a new filler instead of finding one that no longer runs.
            Log.GapFillFailed(_logger, ex, Customer);
            lock (_lock)
            {
                _filling = false;
            }
        }
    }

    private async Task FillGapsLoopAsync()
    {
        await Task.Delay(_options.GapFillDelay, CancellationToken.None);
        long? failingSince = null;
        var failures = 0;
        var retry = Backoff.Fixed(_options.GapFillRetry);
        while (!_stopped)
        {
            long from;
            lock (_lock)
            {
                if (_released >= _knownLast)
                {
                    _filling = false;
                    return;
                }

                from = _released;
            }

            EventPage page;
            try
            {
                page = await _grain.GetSince(from, PageSize);
                failingSince = null;
                failures = 0;
            }
            catch (Exception ex)
            {
                // Any failure, not just transport ones: a gap filler that died would hold every later event back. But
                // not forever: past GapFillTimeout the sockets waiting behind the gap are told to resync, so a client
                // sees a close code instead of a silent stall.
                Log.GapFillFailed(_logger, ex, Customer);
                failingSince ??= Environment.TickCount64;
                if (Environment.TickCount64 - failingSince.Value > (long)_options.GapFillTimeout.TotalMilliseconds)
                {
                    failingSince = null;
                    lock (_lock)
                    {
                        CloseStartedLocked("gap could not be filled");
                    }
                }

                await Task.Delay(retry.Delay(++failures), CancellationToken.None);
                continue;
            }

            GatewayTelemetry.GapFills.Add(1);
            bool progressed;
            lock (_lock)
            {
                // A page from an older epoch was read before a fork the feed already knows of: read again, after a pause.
                progressed = AcceptEpochLocked(page.Epoch, authoritative: false);
                if (!progressed || _released < from)
                {
                    // Or the epoch moved the feed back while this page was on its way: read again from there.
                    _knownLast = Math.Max(_knownLast, page.LastSeq);
                }
                else
                {
                    progressed = TakePageLocked(page, from);
                }
            }

            if (!progressed)
            {
                // Nothing moved (a page that does not start where the feed stands): do not ask again in a tight loop.
                await Task.Delay(NoProgressRetry.Initial, CancellationToken.None);
            }
        }

        lock (_lock)
        {
            _filling = false;
        }
    }

    /// <summary>Releases what a gap-fill page brings; false when it moved nothing (it does not start where the feed stands).</summary>
    private bool TakePageLocked(EventPage page, long from)
    {
        if (!page.Complete && _released < page.FirstRetainedSeq - 1)
        {
            SkipLostLocked(page.FirstRetainedSeq - 1);
        }

        foreach (var e in page.Events)
        {
            if (e.Seq == _released + 1)
            {
                // The page is what the feed waits for: released straight away, whatever the pending buffer holds. Its
                // events were read from the log (the pushed ones after them are released as pushes, below).
                TakePendingLocked(e.Seq, out _);
                ReleasedLocked(e);
                _dispatchingFill = true;
                DispatchLocked(e);
                _dispatchingFill = false;
            }
        }

        if (page.Events.Count == 0)
        {
            // The grain has nothing after what was released: what the feed believed lay beyond (a push from a log that
            // has since lost data) cannot be read, so trust the grain rather than ask again forever.
            _knownLast = page.LastSeq;
            DropPendingLocked(seq => seq > page.LastSeq);
        }
        else
        {
            _knownLast = Math.Max(_knownLast, page.LastSeq);
        }

        ReleaseLocked();
        return _released > from || page.Events.Count == 0;
    }

    /// <summary>Closes every positioned socket with 4101: they resume from their last seq and learn what was lost.</summary>
    private void CloseStartedLocked(string reason)
    {
        foreach (var session in _sessions)
        {
            if (session.Started)
            {
                session.RequestClose(CloseCodes.Resync, reason);
            }
        }
    }

    /// <summary>
    /// Retention dropped events this gateway never received. No socket can get them any more: live sockets are closed
    /// with 4101 so they resume with <c>since</c> and learn from <c>recovered: false</c> that something was lost.
    /// </summary>
    private void SkipLostLocked(long newReleased)
    {
        Log.GapLost(_logger, Customer, _released + 1, newReleased);
        foreach (var session in _sessions)
        {
            if (session.Live && session.Cursor < newReleased)
            {
                session.RequestClose(CloseCodes.Resync, "gap could not be filled");
            }
        }

        _released = newReleased;
        _releasedId = null;
        DropPendingLocked(seq => seq <= newReleased);
    }

    private static partial class Log
    {
        [LoggerMessage(200, LogLevel.Warning, "Filling a gap for customer {Customer} failed; retrying")]
        public static partial void GapFillFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(201, LogLevel.Warning, "Customer {Customer}: seqs {From}..{To} left retention before this gateway received them")]
        public static partial void GapLost(ILogger logger, string customer, long from, long to);

        [LoggerMessage(202, LogLevel.Warning, "Customer {Customer}: the event log moved to a new epoch forking at seq {Base}; this gateway had released {Released}; sockets above the fork resume")]
        public static partial void EpochChanged(ILogger logger, string customer, long released, long @base);
    }
}
