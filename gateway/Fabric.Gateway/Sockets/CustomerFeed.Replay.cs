using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Positioning a socket from history: the first subscribe (with or without <c>since</c>) and the catch-up of a socket
/// that fell behind, both paging the log at the socket's pace before it goes live.
/// </summary>
internal sealed partial class CustomerFeed
{
    /// <summary>
    /// Positions a socket: on its first subscribe, replays history after <paramref name="since"/> page by page until
    /// it reaches what the feed has released, then switches it to live under the feed lock, so no event is skipped or
    /// sent twice. Later subscribes only add topics, from the socket's current position. A <paramref name="since"/>
    /// from another epoch (<paramref name="epoch"/>) that the current one does not cover starts from the epoch's base,
    /// with <c>recovered:false</c>.
    /// </summary>
    public async Task SubscribeAsync(SocketSession session, string[] topics, long? since, string? epoch, string? @ref)
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
                SocketReplies.Subscribed(session, topics, recovered: since is null, session.Cursor, current.Id, @ref);
                return;
            }

            session.Started = true;
            if (since is null)
            {
                session.Cursor = _released;
                SocketReplies.Subscribed(session, topics, recovered: true, _released, current.Id, @ref);
                session.Live = true;
                return;
            }
        }

        var covered = current.Covers(epoch, since.Value);
        var from = covered ? since.Value : current.ValidUpTo(epoch!);
        await ReplayAsync(session, topics, from, covered, current, announce: true, @ref);
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
            await ReplayAsync(session, [], from, covered: true, epoch, announce: false, @ref: null);
        }
        catch (Exception ex)
        {
            Log.CatchUpFailed(_logger, ex, session.Id, Customer);
            session.RequestClose(CloseCodes.Unavailable, "cluster unavailable");
        }
    }

    private async Task ReplayAsync(SocketSession session, string[] topics, long since, bool covered, LogEpoch epoch, bool announce, string? @ref)
    {
        lock (_lock)
        {
            _replays++;
        }

        try
        {
            await ReplayPagesAsync(session, topics, since, covered, epoch, announce, @ref);
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

    private async Task ReplayPagesAsync(SocketSession session, string[] topics, long since, bool covered, LogEpoch epoch, bool announce, string? @ref)
    {
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
                    page = await _grain.GetSince(cursor, PageSize);
                    index = 0;
                    replay?.Dispose();
                    replay = StartReplayActivity(session, page, announce);
                    // Outside the lock: live delivery to the customer's other sockets does not wait on a replay. Sockets
                    // replaying the same events share their frames.
                    frames = [.. page.Events.Select(e => session.Topics.Matches(e.Type) ? Frames.Get(e) : null)];
                }

                lock (_lock)
                {
                    if (fresh)
                    {
                        AcceptEpochLocked(page!.Epoch, authoritative: false);
                    }

                    if (page!.Epoch.Id != epoch.Id || _epoch!.Id != epoch.Id)
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
                        if (session.QueuedBytes > _options.SendQueueMaxBytes / 2)
                        {
                            break;
                        }

                        // The topics as they are now: an unsubscribe or subscribe may have come while this page waited
                        // for room (the page's frames were built for the topics of the time).
                        var e = page.Events[index];
                        var frame = !session.Topics.Matches(e.Type) ? null : frames[index] ?? Frames.Get(e);
                        if (frame is not null && !session.TryEnqueueEvent(frame, e.Seq))
                        {
                            next = frame.Length;
                            break;
                        }

                        cursor = page.Events[index].Seq;
                    }

                    // An empty page means the grain has nothing after the cursor: the socket is as far as it can get.
                    if (index >= frames.Length && (cursor >= _released || page.Events.Count == 0))
                    {
                        session.Cursor = cursor;
                        session.Live = true;
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
        [LoggerMessage(203, LogLevel.Debug, "Socket {Session} of customer {Customer} fell behind; catching up from the log after seq {Seq}")]
        public static partial void Lagging(ILogger logger, string session, string customer, long seq);

        [LoggerMessage(204, LogLevel.Warning, "Socket {Session} of customer {Customer} could not catch up from the log")]
        public static partial void CatchUpFailed(ILogger logger, Exception exception, string session, string customer);
    }
}
