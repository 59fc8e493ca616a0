using Fabric.Contracts;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// The order of one customer's events on this gateway. Pushes from the grain arrive best effort and possibly out of
/// order; the releaser hands them on strictly in seq order, each once, holds what follows a gap until the log fills it,
/// knows which epoch its seqs belong to, and gives the grain a witness of the last event it released. Synchronous and
/// not thread-safe: its feed calls it under the feed's lock.
/// </summary>
internal sealed class SeqReleaser(long pendingMaxBytes, SeqReleaser.ITarget target)
{
    /// <summary>What the releaser tells its feed, always from inside the call that caused it.</summary>
    public interface ITarget
    {
        /// <summary>The next event in seq order; <paramref name="fromLog"/> when a gap-fill page brought it.</summary>
        void Release(EventEnvelope e, bool fromLog);

        /// <summary>A run of releases ended (perhaps an empty one): what was handed on may be sent.</summary>
        void ReleaseEnded();

        /// <summary>The log moved to another epoch: seqs above <paramref name="validUpTo"/> may name other events now.</summary>
        void Forked(long released, long validUpTo);

        /// <summary>Seqs <paramref name="from"/>..<paramref name="to"/> left retention before this gateway received them.</summary>
        void Lost(long from, long to);
    }

    private readonly SortedDictionary<long, EventEnvelope> _pending = [];

    // The ids of the last seqs released: a push that names another event at one of them proves the log went back.
    private readonly RecentIds _releasedIds = new(64);
    private long _pendingBytes;
    private string? _releasedId;

    // A position the log contradicted (a push with another event at a released seq): the next renewal's witness.
    private LogPosition? _suspect;

    /// <summary>The epoch the released seqs belong to; null before the first push or registration.</summary>
    public LogEpoch? Epoch { get; private set; }

    /// <summary>The highest seq handed on.</summary>
    public long Released { get; private set; }

    /// <summary>The highest seq the feed knows exists, pushed or reported.</summary>
    public long KnownLast { get; private set; }

    /// <summary>True once the grain answered a registration: before that, nothing is released.</summary>
    public bool Registered { get; private set; }

    /// <summary>True when seqs are known that have not been released: the log must fill them.</summary>
    public bool HasGap => KnownLast > Released;

    /// <summary>Bytes of pushed events held behind a gap (bounded by the pending limit).</summary>
    public long PendingBytes => _pendingBytes;

    /// <summary>
    /// The last event released, for the grain to check against its log (a witness: a log that lost it went back); or a
    /// position a push contradicted. Null before anything of this gateway's own was released.
    /// </summary>
    public LogPosition? Witness() =>
        _suspect ?? (Epoch is not null && Registered && Released > 0 ? new LogPosition(Epoch.Id, Released, _releasedId) : null);

    /// <summary>A push from the grain; true when it contradicts the feed (an older epoch, or another event at a released seq).</summary>
    public bool OnPush(EventBatch batch)
    {
        var contradicted = false;
        if (Registered)
        {
            // A push from an older epoch is stale, or the log started over: a renewal tells which.
            contradicted = !AcceptEpoch(batch.Epoch, authoritative: false);
        }
        else if (Epoch is null || (Epoch.Id != batch.Epoch.Id && batch.Epoch.Generation >= Epoch.Generation))
        {
            // Before the registration answers, keep only one epoch's pushes: the answer says which one stays.
            ClearPending();
            Epoch = batch.Epoch;
        }

        if (contradicted || Epoch!.Id != batch.Epoch.Id)
        {
            return contradicted;
        }

        foreach (var e in batch.Events)
        {
            if (e.Seq > Released)
            {
                AddPending(e);
                KnownLast = Math.Max(KnownLast, e.Seq);
            }
            else if (_releasedIds.TryGet(e.Seq, out var released) && released != e.Id)
            {
                // The log handed a released seq to another event: it went back without changing its epoch (an
                // activation that started from a head that had lost writes).
                _suspect ??= new LogPosition(Epoch.Id, e.Seq, released);
                contradicted = true;
            }
        }

        if (Registered)
        {
            Release();
        }

        return contradicted;
    }

    /// <summary>The grain accepted (or renewed) this gateway's registration and reported its newest seq and epoch.</summary>
    public void OnRegistered(Registration registration)
    {
        _suspect = null;
        if (!Registered)
        {
            if (Epoch is not null && Epoch.Id != registration.Epoch.Id)
            {
                // Early pushes came from another epoch than the grain reports: the pushes of the right one follow.
                ClearPending();
            }

            // Everything up to lastSeq predates this feed; sockets that want it read it from history.
            Epoch = registration.Epoch;
            Released = registration.LastSeq;
            DropPending(seq => seq <= registration.LastSeq);
            Registered = true;
        }
        else
        {
            // The reply may be older than a push that overtook it (they travel separately): a lastSeq behind what was
            // released means nothing by itself. Only the epoch says whether the seqs still name the same events, and
            // the grain's answer is taken even when its epoch is older: a log that started over begins at 0 again.
            AcceptEpoch(registration.Epoch, authoritative: true);
        }

        KnownLast = Math.Max(KnownLast, registration.LastSeq);
        Release();
    }

    /// <summary>
    /// Takes <paramref name="epoch"/> unless it is older (a lower generation) than the feed's and comes from a push or a
    /// page, which may have been on their way since before a fork; a registration reply is the grain's own current
    /// answer and is always taken. False when ignored.
    /// </summary>
    public bool AcceptEpoch(LogEpoch epoch, bool authoritative)
    {
        if (!authoritative && Epoch is not null && epoch.Id != Epoch.Id && epoch.Generation < Epoch.Generation)
        {
            return false;
        }

        if (Epoch is null || Epoch.Id == epoch.Id)
        {
            Epoch = epoch;
            return true;
        }

        // Seqs above the new epoch's base may name other events: go back to it and read on from there.
        var valid = epoch.ValidUpTo(Epoch.Id);
        Epoch = epoch;
        _releasedIds.Clear();
        ClearPending();
        target.Forked(Released, valid);
        if (Released > valid)
        {
            Released = valid;
            _releasedId = null;
        }

        KnownLast = Released;
        return true;
    }

    /// <summary>
    /// A gap-fill page read after <paramref name="from"/>: releases what it brings. False when it moved nothing (an older
    /// epoch's page, or one that does not start where the feed stands): the filler pauses before reading again.
    /// </summary>
    public bool TakePage(EventPage page, long from)
    {
        var accepted = AcceptEpoch(page.Epoch, authoritative: false);
        if (!accepted || Released < from)
        {
            // A page from before a fork the feed knows of (read again after a pause), or the epoch moved the feed back
            // while the page was on its way (read again at once, from where the feed now stands).
            KnownLast = Math.Max(KnownLast, page.LastSeq);
            return accepted;
        }

        if (!page.Complete && Released < page.FirstRetainedSeq - 1)
        {
            // Retention dropped events this gateway never received: no socket can get them any more.
            var newReleased = page.FirstRetainedSeq - 1;
            target.Lost(Released + 1, newReleased);
            Released = newReleased;
            _releasedId = null;
            DropPending(seq => seq <= newReleased);
        }

        foreach (var e in page.Events)
        {
            if (e.Seq == Released + 1)
            {
                // The page is what the feed waits for: released straight away, whatever the pending buffer holds.
                TakePending(e.Seq, out _);
                Mark(e);
                target.Release(e, fromLog: true);
            }
        }

        if (page.Events.Count == 0)
        {
            // The grain has nothing after what was released: what the feed believed lay beyond (a push from a log that
            // has since lost data) cannot be read, so trust the grain rather than ask again forever.
            KnownLast = page.LastSeq;
            DropPending(seq => seq > page.LastSeq);
        }
        else
        {
            KnownLast = Math.Max(KnownLast, page.LastSeq);
        }

        Release();
        return Released > from || page.Events.Count == 0;
    }

    /// <summary>Hands on every pending event that follows the last released one.</summary>
    private void Release()
    {
        while (TakePending(Released + 1, out var e))
        {
            Mark(e);
            target.Release(e, fromLog: false);
        }

        target.ReleaseEnded();
    }

    private void Mark(EventEnvelope e)
    {
        Released = e.Seq;
        _releasedId = e.Id;
        _releasedIds.Add(e.Seq, e.Id);
    }

    /// <summary>
    /// Holds a pushed event until the ones before it are released, within the pending limit: past that, a push is not
    /// kept — its seq is still known, so the gap filler reads it from the log instead.
    /// </summary>
    private void AddPending(EventEnvelope e)
    {
        var size = EventSize.Of(e);
        if (_pending.ContainsKey(e.Seq) || (_pending.Count > 0 && _pendingBytes + size > pendingMaxBytes))
        {
            return;
        }

        _pending[e.Seq] = e;
        _pendingBytes += size;
    }

    private bool TakePending(long seq, out EventEnvelope e)
    {
        if (_pending.Remove(seq, out e!))
        {
            _pendingBytes -= EventSize.Of(e);
            return true;
        }

        return false;
    }

    private void ClearPending()
    {
        _pending.Clear();
        _pendingBytes = 0;
    }

    private void DropPending(Func<long, bool> drop)
    {
        foreach (var seq in _pending.Keys.Where(drop).ToArray())
        {
            TakePending(seq, out _);
        }
    }
}
