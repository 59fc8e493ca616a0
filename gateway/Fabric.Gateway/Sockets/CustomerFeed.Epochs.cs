using Fabric.Contracts;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Where the feed stands against the grain: its registration answers, the epoch its seqs belong to, and the witness it
/// gives the grain so a log that went back is found out.
/// </summary>
internal sealed partial class CustomerFeed
{
    /// <summary>
    /// The last event this feed released, for the grain to check against its log (a witness: a log that lost it went
    /// back). Null before the feed has released anything of its own.
    /// </summary>
    public LogPosition? Witness()
    {
        lock (_lock)
        {
            return _suspect ?? (_epoch is not null && _ready.Task.IsCompleted && _released > 0 ? new LogPosition(_epoch.Id, _released, _releasedId) : null);
        }
    }

    /// <summary>
    /// Raised (outside the feed's lock) when a push contradicts what the feed knows: another event at a released seq, or
    /// an epoch older than the feed's. The registry renews at once, so the grain sees the witness and the feed the
    /// grain's current epoch, instead of both waiting for the next renewal.
    /// </summary>
    public event Action<CustomerFeed>? RenewalNeeded;

    /// <summary>The grain accepted (or renewed) this gateway's registration and reported its newest seq and epoch.</summary>
    public void OnRegistered(Registration registration)
    {
        lock (_lock)
        {
            _suspect = null;
            _renewalRequested = false;
            if (!_ready.Task.IsCompleted)
            {
                if (_epoch is not null && _epoch.Id != registration.Epoch.Id)
                {
                    // Early pushes came from another epoch than the grain reports: the pushes of the right one follow.
                    ClearPendingLocked();
                }

                // Everything up to lastSeq predates this feed; sockets that want it read it from history.
                _epoch = registration.Epoch;
                _released = registration.LastSeq;
                DropPendingLocked(seq => seq <= registration.LastSeq);
            }
            else
            {
                // The reply may be older than a push that overtook it (they travel separately): a lastSeq behind what was
                // released means nothing by itself. Only the epoch says whether the seqs still name the same events, and
                // the grain's answer is taken even when its epoch is older: a log that started over begins at 0 again.
                AcceptEpochLocked(registration.Epoch, authoritative: true);
            }

            _knownLast = Math.Max(_knownLast, registration.LastSeq);
            ReleaseLocked();
            StartFillIfGapLocked();

            // Inside the lock, so a push cannot slip between "registered" and "ready" and sit unreleased.
            _ready.TrySetResult();
        }
    }

    /// <summary>
    /// The log is in another epoch than the one this feed released from: seqs above the new epoch's base may now name
    /// other events. Sockets positioned above it are closed with 4101 (they resume, and <c>recovered:false</c> tells
    /// them why); the feed goes back to the base and reads on from there; sockets at or below it carry on.
    /// </summary>
    private void AdoptEpochLocked(LogEpoch epoch)
    {
        if (_epoch is null || _epoch.Id == epoch.Id)
        {
            _epoch = epoch;
            return;
        }

        var valid = epoch.ValidUpTo(_epoch.Id);
        Log.EpochChanged(_logger, Customer, _released, Math.Min(valid, _released));
        _epoch = epoch;
        _releasedIds.Clear();
        Frames.Clear();
        foreach (var session in _sessions)
        {
            if (session.Started && session.Cursor > valid)
            {
                session.RequestClose(CloseCodes.Resync, "event log restarted");
            }
        }

        ClearPendingLocked();
        if (_released > valid)
        {
            _released = valid;
            _releasedId = null;
        }

        _knownLast = _released;
    }

    /// <summary>
    /// Takes <paramref name="epoch"/> unless it is older (a lower generation) than the feed's and comes from a push or a
    /// page, which may have been on their way since before a fork; a registration reply is the grain's own current
    /// answer and is always taken. False when ignored.
    /// </summary>
    private bool AcceptEpochLocked(LogEpoch epoch, bool authoritative)
    {
        if (!authoritative && _epoch is not null && epoch.Id != _epoch.Id && epoch.Generation < _epoch.Generation)
        {
            return false;
        }

        AdoptEpochLocked(epoch);
        return true;
    }
}
