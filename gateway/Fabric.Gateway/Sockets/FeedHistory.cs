using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// What a <see cref="CustomerFeed"/> reads from the grain's log: the gaps pushes left (so the feed releases every seq
/// in order), and the history a socket is positioned from — its first subscribe, with or without <c>since</c>, and the
/// catch-up of a socket that fell behind — paged at the socket's pace before it goes live. The reads run outside the
/// feed's lock; what they find is taken under it.
/// </summary>
internal sealed partial class FeedHistory(CustomerFeed feed, ICustomerGrain grain, SocketOptions options, ILogger logger, TimeProvider clock)
{
    private const int PageSize = 1000;

    // A page that does not start where the feed stands: read again after a pause, not in a tight loop.
    private static readonly TimeSpan NoProgressPause = TimeSpan.FromMilliseconds(200);

    // Both under the feed's lock.
    private bool _filling;
    private int _replays;

    /// <summary>True while a replay or catch-up runs: live frames then go through the shared cache. Under the feed's lock.</summary>
    public bool Replaying => _replays > 0;

    /// <summary>Starts the gap filler if seqs are known that were not released and none runs. Under the feed's lock.</summary>
    public void StartFillIfGapLocked()
    {
        if (!_filling && feed.Releaser.HasGap && !feed.IsStopped)
        {
            _filling = true;
            _ = FillGapsAsync();
        }
    }

    /// <summary>
    /// Positions a socket: on its first subscribe, replays history after <paramref name="since"/> page by page until
    /// it reaches what the feed has released, then switches it to live under the feed lock, so no event is skipped or
    /// sent twice. Later subscribes only add topics, from the socket's current position. A <paramref name="since"/>
    /// from another epoch (<paramref name="epoch"/>) that the current one does not cover starts from the epoch's base,
    /// with <c>recovered:false</c>.
    /// </summary>
    public async Task SubscribeAsync(FeedMember member, string[] topics, long? since, string? epoch, string? @ref)
    {
        topics = [.. topics.Distinct(StringComparer.Ordinal)];
        // A cluster that cannot be reached must not leave the client waiting without an answer.
        await feed.Ready.WaitAsync(options.RegistrationTimeout, clock);
        LogEpoch current;
        lock (feed.Gate)
        {
            var releaser = feed.Releaser;
            current = releaser.Epoch!;
            member.Topics = member.Topics.With(topics);
            if (member.Started)
            {
                // One cursor per socket: topics added later join at the current position, so history for them is not replayed.
                SocketReplies.Subscribed(member.Session, topics, recovered: since is null, member.Cursor, current.Id, @ref);
                return;
            }

            member.Started = true;
            if (since is null)
            {
                member.Cursor = releaser.Released;
                SocketReplies.Subscribed(member.Session, topics, recovered: true, releaser.Released, current.Id, @ref);
                member.Live = true;
                return;
            }
        }

        var covered = current.Covers(epoch, since.Value);
        var from = covered ? since.Value : current.ValidUpTo(epoch!);
        await ReplayAsync(member, topics, from, covered, current, announce: true, @ref);
    }

    /// <summary>
    /// A live socket's queue overflowed: its untaken events are dropped, and it goes on from the last one its send loop
    /// took, paging the log at its own pace as a resume does, then rejoins live. Nobody reconnects, memory stays bounded,
    /// and each event still reaches it once and in order. Only a client that takes nothing for
    /// <see cref="SocketOptions.LagGracePeriod"/> is shed (4100); one whose position retention no longer covers is told
    /// to resync (4101). Under the feed's lock.
    /// </summary>
    public void StartCatchUpLocked(FeedMember member, long refused)
    {
        member.Live = false;
        // Every event before the first one dropped (or before the one refused) has been offered to the socket.
        var from = Math.Min(member.Session.DropQueuedEvents() ?? refused, refused) - 1;
        member.Cursor = from;
        GatewayTelemetry.LagEpisodes.Add(1);
        Log.Lagging(logger, member.Session.Id, feed.Customer, from);
        _ = CatchUpAsync(member, from, feed.Releaser.Epoch!);
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
            Log.GapFillFailed(logger, ex, feed.Customer);
            lock (feed.Gate)
            {
                _filling = false;
            }
        }
    }

    private async Task FillGapsLoopAsync()
    {
        await Task.Delay(options.GapFillDelay, clock, CancellationToken.None);
        long? failingSince = null;
        var failures = 0;
        var retry = Backoff.Fixed(options.GapFillRetry);
        while (!feed.IsStopped)
        {
            long from;
            lock (feed.Gate)
            {
                if (!feed.Releaser.HasGap)
                {
                    _filling = false;
                    return;
                }

                from = feed.Releaser.Released;
            }

            EventPage page;
            try
            {
                page = await grain.GetSince(from, PageSize);
                failingSince = null;
                failures = 0;
            }
            catch (Exception ex)
            {
                // Any failure, not just transport ones: a gap filler that died would hold every later event back. But
                // not forever: past GapFillTimeout the sockets waiting behind the gap are told to resync, so a client
                // sees a close code instead of a silent stall.
                Log.GapFillFailed(logger, ex, feed.Customer);
                failingSince ??= clock.GetTimestamp();
                if (clock.GetElapsedTime(failingSince.Value) > options.GapFillTimeout)
                {
                    failingSince = null;
                    lock (feed.Gate)
                    {
                        feed.CloseStartedLocked("gap could not be filled");
                    }
                }

                await Task.Delay(retry.Delay(++failures), clock, CancellationToken.None);
                continue;
            }

            GatewayTelemetry.GapFills.Add(1);
            bool progressed;
            lock (feed.Gate)
            {
                progressed = feed.Releaser.TakePage(page, from);
            }

            if (!progressed)
            {
                await Task.Delay(NoProgressPause, clock, CancellationToken.None);
            }
        }

        lock (feed.Gate)
        {
            _filling = false;
        }
    }

    private async Task CatchUpAsync(FeedMember member, long from, LogEpoch epoch)
    {
        try
        {
            await ReplayAsync(member, [], from, covered: true, epoch, announce: false, @ref: null);
        }
        catch (Exception ex)
        {
            Log.CatchUpFailed(logger, ex, member.Session.Id, feed.Customer);
            member.Session.RequestClose(CloseCodes.Unavailable, "cluster unavailable");
        }
    }

    private async Task ReplayAsync(FeedMember member, string[] topics, long since, bool covered, LogEpoch epoch, bool announce, string? @ref)
    {
        lock (feed.Gate)
        {
            _replays++;
        }

        try
        {
            await ReplayPagesAsync(member, topics, since, covered, epoch, announce, @ref);
        }
        finally
        {
            lock (feed.Gate)
            {
                if (--_replays == 0)
                {
                    // The shared frames served the replays; a quiet feed keeps none.
                    feed.Frames.Clear();
                }
            }
        }
    }

    private async Task ReplayPagesAsync(FeedMember member, string[] topics, long since, bool covered, LogEpoch epoch, bool announce, string? @ref)
    {
        var session = member.Session;
        var cursor = since;
        var next = 0;
        // A resume answers with "subscribed" on its first page; a catch-up has nothing to announce and treats an
        // incomplete first page like any later one.
        var first = announce;
        // The page in hand and how far into it the socket has been offered: a page is read once, however many waits for
        // room it takes to queue it (a small queue, or large events, would otherwise re-read most of it each time).
        EventPage? page = null;
        byte[]?[] frames = [];
        var index = 0;
        Activity? replay = null;
        try
        {
            while (!session.IsClosing)
            {
                // Room for half a queue, and for the frame that did not fit last time: a large event waits for its room
                // instead of making this loop spin on it.
                await session.WaitForSendRoomAsync(next);
                next = 0;
                var fresh = page is null || index >= page.Events.Count;
                if (fresh)
                {
                    page = await grain.GetSince(cursor, PageSize);
                    index = 0;
                    replay?.Dispose();
                    replay = StartReplayActivity(session, page, announce);
                    // Outside the lock: live delivery to the customer's other sockets does not wait on a replay. Sockets
                    // replaying the same events share their frames.
                    frames = [.. page.Events.Select(e => member.Topics.Matches(e.Type) ? feed.Frames.Get(e) : null)];
                }

                lock (feed.Gate)
                {
                    var releaser = feed.Releaser;
                    if (fresh)
                    {
                        releaser.AcceptEpoch(page!.Epoch, authoritative: false);
                    }

                    if (page!.Epoch.Id != epoch.Id || releaser.Epoch!.Id != epoch.Id)
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
                        GatewayTelemetry.Recoveries.Add(1, new KeyValuePair<string, object?>("recovered", recovered));
                        cursor = Math.Min(cursor, page.LastSeq);
                        SocketReplies.Subscribed(session, topics, recovered, cursor, epoch.Id, @ref);
                        first = false;
                    }
                    else if (fresh && !page.Complete && cursor < page.FirstRetainedSeq - 1)
                    {
                        // Retention overtook this replay between two pages (or a lagging socket's position).
                        session.RequestClose(CloseCodes.Resync, "history trimmed during replay");
                        return;
                    }

                    for (; index < frames.Length; index++)
                    {
                        if (page.Events[index].Seq <= cursor)
                        {
                            continue;
                        }

                        // Half the queue in use: stop here and wait for room before going on from this event.
                        if (session.QueuedBytes > options.SendQueueMaxBytes / 2)
                        {
                            break;
                        }

                        // The topics as they are now: an unsubscribe or subscribe may have come while this page waited
                        // for room (the page's frames were built for the topics of the time).
                        var e = page.Events[index];
                        var frame = !member.Topics.Matches(e.Type) ? null : frames[index] ?? feed.Frames.Get(e);
                        if (frame is not null && !session.TryEnqueueEvent(frame, e.Seq))
                        {
                            next = frame.Length;
                            break;
                        }

                        cursor = page.Events[index].Seq;
                    }

                    // An empty page means the grain has nothing after the cursor: the socket is as far as it can get.
                    if (index >= frames.Length && (cursor >= releaser.Released || page.Events.Count == 0))
                    {
                        member.Cursor = cursor;
                        member.Live = true;
                        return;
                    }
                }
            }
        }
        finally
        {
            replay?.Dispose();
        }
    }

    /// <summary>
    /// A page of history going to one socket: a trace of its own (it may be hours after the events), linked to the
    /// ingest traces of the page's first <see cref="TraceLinks.MaxLinks"/> events.
    /// </summary>
    private static Activity? StartReplayActivity(SocketSession session, EventPage page, bool resume)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        var links = TraceLinks.ToEach(page.Events);
        // Not under the socket's request span (it lasts as long as the socket) nor a delivery that overflowed it.
        var current = Activity.Current;
        var activity = TraceLinks.StartRoot(GatewayTelemetry.Source, GatewayTelemetry.ReplaySpan, ActivityKind.Producer, links);
        Activity.Current = current;
        activity?.SetTag(GatewayTelemetry.CustomerTag, session.Customer);
        activity?.SetTag(GatewayTelemetry.SessionTag, session.Id);
        activity?.SetTag(GatewayTelemetry.ReasonTag, resume ? "resume" : "catch-up");
        activity?.SetTag(GatewayTelemetry.EventsTag, page.Events.Count);
        if (page.Events.Count > 0)
        {
            activity?.SetTag(GatewayTelemetry.SeqTag, page.Events[0].Seq);
        }

        return activity;
    }

    private static partial class Log
    {
        [LoggerMessage(200, LogLevel.Warning, "Filling a gap for customer {Customer} failed; retrying")]
        public static partial void GapFillFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(203, LogLevel.Debug, "Socket {Session} of customer {Customer} fell behind; catching up from the log after seq {Seq}")]
        public static partial void Lagging(ILogger logger, string session, string customer, long seq);

        [LoggerMessage(204, LogLevel.Warning, "Socket {Session} of customer {Customer} could not catch up from the log")]
        public static partial void CatchUpFailed(ILogger logger, Exception exception, string session, string customer);
    }
}
