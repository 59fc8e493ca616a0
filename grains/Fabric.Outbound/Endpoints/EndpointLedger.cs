using Fabric.Rules.Outbound;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// An endpoint's settled messages — failed ones in its delivery state, delivered ones in its history, each list the
/// newest few hundred — the manual queue they go back to for one more attempt, and the running recovery's counts.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed class EndpointLedger(
    Func<EndpointState> current, Func<EndpointHistory> history, DeliverySchedule schedule, EndpointStore store, OutboundOptions options)
{
    private EndpointState State => current();

    /// <summary>A message settles: out of the manual queue (counted in the recovery) into the delivered or failed list.</summary>
    public void Finish(Message message, bool manual, bool delivered, DateTimeOffset now)
    {
        if (manual)
        {
            State.Manual.Remove(message);
            if (message.Recovering && State.Recovery is { } recovery)
            {
                message.Recovering = false;
                var done = recovery.Done + 1;
                State.Recovery = recovery with
                {
                    Done = done,
                    Delivered = recovery.Delivered + (delivered ? 1 : 0),
                    Failed = recovery.Failed + (delivered ? 0 : 1),
                    Finished = done >= recovery.Total ? now : null,
                };
            }
        }

        Settle(message, failed: !delivered, message.Reason, now);
    }

    /// <summary>Out of the open set, into the delivered or the failed list.</summary>
    public void Settle(Message message, bool failed, string? reason, DateTimeOffset now)
    {
        schedule.Close(message);
        message.Due = null;
        message.Reason = reason;
        message.Settled = now;
        if (failed)
        {
            OutboundTelemetry.Failed.Add(1);
            AddFailed(message);
        }
        else
        {
            OutboundTelemetry.Delivered.Add(1);
            history().Delivered.Add(message);
            KeepNewest(history().Delivered, options.KeepDelivered);
            store.HistoryChanged();
        }

        store.Changed();
    }

    /// <summary>A range the log no longer holds: one failed entry says so (there are no event ids to name).</summary>
    public void Lose(long first, long last, string reason, DateTimeOffset now)
    {
        AddFailed(new Message { Seq = first, LastSeq = last, Reason = reason, Settled = now });
        OutboundTelemetry.Failed.Add(last - first + 1);
        store.Changed(urgent: true);
    }

    /// <summary>The newest settled message of <paramref name="eventId"/>, failed or delivered.</summary>
    public Message? FindSettled(string eventId) =>
        State.Failed.FindLast(m => m.EventId == eventId) ?? history().Delivered.FindLast(m => m.EventId == eventId);

    public IEnumerable<Message> Delivered => Enumerable.Reverse(history().Delivered);

    public IEnumerable<Message> Failed => Enumerable.Reverse(State.Failed);

    /// <summary>Every failed message with an event id (a lost range has none to send) last tried at or after <paramref name="since"/>.</summary>
    public List<Message> FailedSince(DateTimeOffset since) =>
        [.. State.Failed.Where(m => m.EventId is not null && (m.Attempts.LastOrDefault()?.Time ?? m.Settled) >= since)];

    /// <summary>Out of its settled list, into the manual queue, for one attempt at once.</summary>
    public void Requeue(Message message, bool recovering, DateTimeOffset now)
    {
        State.Failed.Remove(message);
        if (history().Delivered.Remove(message))
        {
            store.HistoryChanged();
        }

        message.Due = now;
        message.Reason = null;
        message.Recovering = recovering;
        State.Manual.Add(message);
    }

    private void AddFailed(Message message)
    {
        State.Failed.Add(message);
        KeepNewest(State.Failed, options.KeepFailed);
    }

    /// <summary>Drops the oldest past <paramref name="keep"/>, in steps of an eighth of it, so the list is not moved per message.</summary>
    private static void KeepNewest(List<Message> messages, int keep)
    {
        if (messages.Count > keep + (keep / 8))
        {
            messages.RemoveRange(0, messages.Count - keep);
        }
    }
}
