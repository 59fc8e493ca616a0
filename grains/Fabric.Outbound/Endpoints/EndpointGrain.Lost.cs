using Fabric.Contracts;

namespace Fabric.Outbound.Endpoints;

/// <summary>When the log no longer holds what the endpoint was to deliver: a new epoch, or a range trimmed past the hold-back.</summary>
internal sealed partial class EndpointGrain
{
    /// <summary>
    /// The log started a new epoch: positions past where it forked named events the log no longer has. Those still
    /// pending fail as <c>lost</c>; reading goes on from the fork, where the new epoch's events begin.
    /// </summary>
    private bool AdoptEpoch(LogEpoch epoch, DateTimeOffset now)
    {
        // Only an epoch change moves positions back: within one epoch a page may even run ahead of the head it reports
        // (events written, not yet acknowledged), and a log that lost events forks itself at its next append.
        if (State.Epoch == epoch.Id)
        {
            return false;
        }

        var valid = State.Epoch is null ? long.MaxValue : epoch.ValidUpTo(State.Epoch);

        var moved = State.ReadThrough > valid;
        if (moved)
        {
            foreach (var message in _open.Values.Where(m => m.Seq > valid && !m.InFlight).ToList())
            {
                Settle(message, failed: true, "lost", now);
            }

            Log.Lost(_logger, Key.Endpoint, valid + 1, State.ReadThrough, "lost");
            State.ReadThrough = valid;
            State.Cursor = Math.Min(State.Cursor, valid);
        }

        State.Epoch = epoch.Id;
        _dirty = _urgent = true;
        return moved;
    }

    /// <summary>A range the log no longer holds: one failed entry says so (there are no event ids to name).</summary>
    private void Lose(long first, long last, string reason, DateTimeOffset now)
    {
        if (last < first)
        {
            return;
        }

        Log.Lost(_logger, Key.Endpoint, first, last, reason);
        AddFailed(new Message { Seq = first, LastSeq = last, Reason = reason, Settled = now });
        OutboundTelemetry.Failed.Add(last - first + 1);
        _dirty = _urgent = true;
    }
}
