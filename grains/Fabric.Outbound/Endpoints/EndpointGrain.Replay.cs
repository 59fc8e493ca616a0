using Fabric.Contracts.Endpoints;

namespace Fabric.Outbound.Endpoints;

/// <summary>The attempt log, and sending settled messages again: one (retry) or every failed one since a time (recover).</summary>
internal sealed partial class EndpointGrain
{
    public Task<IReadOnlyList<MessageView>?> GetMessages(MessageStatus status, int limit)
    {
        if (State.Config is null)
        {
            return Task.FromResult<IReadOnlyList<MessageView>?>(null);
        }

        IEnumerable<Message> messages = status switch
        {
            MessageStatus.Pending => State.Manual.Concat(_open.Values),
            MessageStatus.Delivered => Enumerable.Reverse(_history.State.Delivered),
            _ => Enumerable.Reverse(State.Failed),
        };
        return Task.FromResult<IReadOnlyList<MessageView>?>([.. messages.Take(limit).Select(m => m.View(status))]);
    }

    public async Task<RetryOutcome> Retry(string eventId)
    {
        if (State.Config is null)
        {
            return RetryOutcome.UnknownEndpoint;
        }

        if (State.Manual.Any(m => m.EventId == eventId) || _open.Values.Any(m => m.EventId == eventId))
        {
            return RetryOutcome.Queued;
        }

        var message = State.Failed.FindLast(m => m.EventId == eventId) ?? _history.State.Delivered.FindLast(m => m.EventId == eventId);
        if (message is null)
        {
            return RetryOutcome.UnknownMessage;
        }

        if (await ReadEventAsync(message.Seq) is null)
        {
            return RetryOutcome.Expired;
        }

        Requeue(message, recovering: false);
        await SaveAsync();
        Wake();
        return RetryOutcome.Queued;
    }

    public async Task<RecoveryView?> Recover(DateTimeOffset since)
    {
        if (State.Config is null)
        {
            return null;
        }

        // Every failed message (with an event id: a lost range has none to send) whose last attempt was at or after since.
        var chosen = State.Failed.Where(m => m.EventId is not null && (m.Attempts.LastOrDefault()?.Time ?? m.Settled) >= since).ToList();
        foreach (var message in chosen)
        {
            Requeue(message, recovering: true);
        }

        // Messages of an earlier recovery still waiting count in this one, so done never passes total.
        var total = State.Manual.Count(m => m.Recovering);
        var now = _time.GetUtcNow();
        State.Recovery = new RecoveryView(since, now, total, 0, 0, 0, total == 0 ? now : null);
        await SaveAsync();
        Wake();
        return State.Recovery;
    }

    public Task<RecoveryView?> GetRecovery() => Task.FromResult(State.Config is null ? null : State.Recovery);

    /// <summary>Out of its settled list, into the manual queue, for one attempt at once.</summary>
    private void Requeue(Message message, bool recovering)
    {
        State.Failed.Remove(message);
        _historyDirty |= _history.State.Delivered.Remove(message);
        message.Due = _time.GetUtcNow();
        message.Reason = null;
        message.Recovering = recovering;
        State.Manual.Add(message);
    }
}
