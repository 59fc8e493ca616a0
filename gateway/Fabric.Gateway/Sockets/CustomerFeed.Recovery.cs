using Fabric.Contracts;
using Fabric.Gateway.Api;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

internal sealed partial class CustomerFeed
{
    private const int PageSize = 1000;

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

                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
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
                await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None);
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
                // The page is what the feed waits for: released straight away, whatever the pending buffer holds.
                TakePendingLocked(e.Seq, out _);
                ReleasedLocked(e);
                DispatchLocked(e);
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

    /// <summary>
    /// Positions a socket: on its first subscribe, replays history after <paramref name="since"/> page by page until
    /// it reaches what the feed has released, then switches it to live under the feed lock, so no event is skipped or
    /// sent twice. Later subscribes only add topics, from the socket's current position. A <paramref name="since"/>
    /// from another epoch (<paramref name="epoch"/>) that the current one does not cover starts from the epoch's base,
    /// with <c>recovered:false</c>.
    /// </summary>
    public async Task SubscribeAsync(SocketSession session, string[] topics, long? since, string? epoch)
    {
        topics = [.. topics.Distinct(StringComparer.Ordinal)];
        // A cluster that cannot be reached must not leave the client waiting without an answer.
        await Ready.WaitAsync(_options.RegistrationTimeout);
        LogEpoch current;
        lock (_lock)
        {
            current = _epoch!;
            session.Topics = session.Topics.With(topics);
            if (session.Started)
            {
                // One cursor per socket: topics added later join at the current position, so history for them is not replayed.
                session.Send(new SubscribedFrame(topics, Recovered: since is null, session.Cursor, current.Id), ApiJsonContext.Default.SubscribedFrame, positional: true);
                return;
            }

            session.Started = true;
            if (since is null)
            {
                session.Cursor = _released;
                session.Send(new SubscribedFrame(topics, Recovered: true, _released, current.Id), ApiJsonContext.Default.SubscribedFrame, positional: true);
                session.Live = true;
                return;
            }
        }

        var covered = current.Covers(epoch, since.Value);
        var from = covered ? since.Value : current.ValidUpTo(epoch!);
        await ReplayAsync(session, topics, from, covered, current, announce: true);
    }

    /// <summary>
    /// A live socket's queue overflowed: its untaken events are dropped, and it goes on from the last one its send loop
    /// took, paging the log at its own pace as a resume does, then rejoins live. Nobody reconnects, memory stays bounded,
    /// and each event still reaches it once and in order. Only a client that takes nothing for
    /// <see cref="SocketOptions.LagGracePeriod"/> is shed (4100); one whose position retention no longer covers is told
    /// to resync (4101).
    /// </summary>
    private void StartCatchUpLocked(SocketSession session, long refused)
    {
        session.Live = false;
        // Every event before the first one dropped (or before the one refused) has been offered to the socket.
        var from = Math.Min(session.DropQueuedEvents() ?? refused, refused) - 1;
        session.Cursor = from;
        GatewayTelemetry.LagEpisodes.Add(1);
        Log.Lagging(_logger, session.Id, Customer, from);
        _ = CatchUpAsync(session, from, _epoch!);
    }

    private async Task CatchUpAsync(SocketSession session, long from, LogEpoch epoch)
    {
        try
        {
            await ReplayAsync(session, [], from, covered: true, epoch, announce: false);
        }
        catch (Exception ex)
        {
            Log.CatchUpFailed(_logger, ex, session.Id, Customer);
            session.RequestClose(CloseCodes.Unavailable, "cluster unavailable");
        }
    }

    private async Task ReplayAsync(SocketSession session, string[] topics, long since, bool covered, LogEpoch epoch, bool announce)
    {
        lock (_lock)
        {
            _replays++;
        }

        try
        {
            await ReplayPagesAsync(session, topics, since, covered, epoch, announce);
        }
        finally
        {
            lock (_lock)
            {
                if (--_replays == 0)
                {
                    // The shared frames served the replays; a quiet feed keeps none.
                    Frames.Clear();
                }
            }
        }
    }

    private async Task ReplayPagesAsync(SocketSession session, string[] topics, long since, bool covered, LogEpoch epoch, bool announce)
    {
        var cursor = since;
        var next = 0;
        // A resume answers with "subscribed" on its first page; a catch-up has nothing to announce and treats an
        // incomplete first page like any later one.
        var first = announce;
        while (!session.IsClosing)
        {
            // Room for half a queue, and for the frame that did not fit last time: a large event waits for its room
            // instead of making this loop re-read its page over and over.
            await session.WaitForSendRoomAsync(next);
            var page = await _grain.GetSince(cursor, PageSize);

            // Outside the lock: live delivery to the customer's other sockets does not wait on a replay. Sockets replaying
            // the same events share their frames.
            var frames = page.Events.Select(e => session.Topics.Matches(e.Type) ? Frames.Get(e) : null).ToArray();
            lock (_lock)
            {
                AcceptEpochLocked(page.Epoch, authoritative: false);
                if (page.Epoch.Id != epoch.Id || _epoch!.Id != epoch.Id)
                {
                    // The log forked while this socket was being positioned (the page says so, or the feed learnt it from
                    // a push): its cursor may name another event now.
                    session.RequestClose(CloseCodes.Resync, "event log restarted");
                    return;
                }

                if (first)
                {
                    // A since beyond the log's end comes from a log this one is not (e.g. before a restart without durability).
                    var recovered = covered && page.Complete && since <= page.LastSeq;
                    cursor = Math.Min(cursor, page.LastSeq);
                    session.Send(new SubscribedFrame(topics, recovered, cursor, epoch.Id), ApiJsonContext.Default.SubscribedFrame, positional: true);
                    first = false;
                }
                else if (!page.Complete && cursor < page.FirstRetainedSeq - 1)
                {
                    // Retention overtook this replay between two pages (or a lagging socket's position).
                    session.RequestClose(CloseCodes.Resync, "history trimmed during replay");
                    return;
                }

                var whole = true;
                for (var i = 0; i < frames.Length; i++)
                {
                    if (page.Events[i].Seq <= cursor)
                    {
                        continue;
                    }

                    // Half the queue in use: stop here and wait for room before reading on from this cursor.
                    if (session.QueuedBytes > _options.SendQueueMaxBytes / 2)
                    {
                        whole = false;
                        break;
                    }

                    if (frames[i] is { } frame && !session.TryEnqueueEvent(frame, page.Events[i].Seq))
                    {
                        next = frame.Length;
                        whole = false;
                        break;
                    }

                    cursor = page.Events[i].Seq;
                }

                // An empty page means the grain has nothing after the cursor: the socket is as far as it can get.
                if (whole && (cursor >= _released || page.Events.Count == 0))
                {
                    session.Cursor = cursor;
                    session.Live = true;
                    return;
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(200, LogLevel.Warning, "Filling a gap for customer {Customer} failed; retrying")]
        public static partial void GapFillFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(201, LogLevel.Warning, "Customer {Customer}: seqs {From}..{To} left retention before this gateway received them")]
        public static partial void GapLost(ILogger logger, string customer, long from, long to);

        [LoggerMessage(203, LogLevel.Debug, "Socket {Session} of customer {Customer} fell behind; catching up from the log after seq {Seq}")]
        public static partial void Lagging(ILogger logger, string session, string customer, long seq);

        [LoggerMessage(204, LogLevel.Warning, "Socket {Session} of customer {Customer} could not catch up from the log")]
        public static partial void CatchUpFailed(ILogger logger, Exception exception, string session, string customer);

        [LoggerMessage(202, LogLevel.Warning, "Customer {Customer}: the event log moved to a new epoch forking at seq {Base}; this gateway had released {Released}; sockets above the fork resume")]
        public static partial void EpochChanged(ILogger logger, string customer, long released, long @base);
    }
}
