using Fabric.Contracts;
using Fabric.Gateway.Sockets;

namespace Fabric.Gateway.Tests.Parts;

/// <summary>
/// The feed's ordering on its own, with no socket or grain: what it releases, in what order, and what it tells the
/// feed when the log contradicts it. Each case takes microseconds.
/// </summary>
public sealed class SeqReleaserTests
{
    private readonly Recorder _feed = new();
    private readonly LogEpoch _epoch = LogEpoch.New(0);
    private readonly SeqReleaser _releaser;

    public SeqReleaserTests() => _releaser = new SeqReleaser(pendingMaxBytes: 1 << 20, _feed);

    [Fact]
    public void Nothing_is_released_before_the_registration_answers_and_then_only_what_follows_its_last_seq()
    {
        _releaser.OnPush(Batch(3, 4));
        Assert.Empty(_feed.Released);

        _releaser.OnRegistered(new Registration(3, _epoch));

        Assert.Equal([4L], _feed.Released);
        Assert.False(_releaser.HasGap);
    }

    [Fact]
    public void Reordered_and_duplicated_pushes_are_released_in_order_once()
    {
        _releaser.OnRegistered(new Registration(0, _epoch));

        _releaser.OnPush(Batch(3, 1));
        _releaser.OnPush(Batch(1));
        Assert.Equal([1L], _feed.Released);
        Assert.True(_releaser.HasGap);

        _releaser.OnPush(Batch(2));

        Assert.Equal([1L, 2, 3], _feed.Released);
        Assert.False(_releaser.HasGap);
    }

    [Fact]
    public void A_gap_fill_page_releases_what_it_brings_then_what_was_held_behind_it()
    {
        _releaser.OnRegistered(new Registration(0, _epoch));
        _releaser.OnPush(Batch(3, 4));

        var progressed = _releaser.TakePage(Page([Event(1), Event(2), Event(3)], lastSeq: 4), from: 0);

        Assert.True(progressed);
        Assert.Equal([1L, 2, 3, 4], _feed.Released);
        // Seq 3 came both ways: the page's copy goes out, the pushed one is dropped.
        Assert.Equal([true, true, true, false], _feed.FromLog);
        Assert.Equal(0, _releaser.PendingBytes);
    }

    [Fact]
    public void An_empty_page_drops_what_the_grain_does_not_have_so_a_phantom_seq_stalls_nothing()
    {
        _releaser.OnRegistered(new Registration(1, _epoch));
        _releaser.OnPush(Batch(9));

        Assert.True(_releaser.TakePage(Page([], lastSeq: 1), from: 1));

        Assert.False(_releaser.HasGap);
        _releaser.OnPush(Batch(2));
        Assert.Equal([2L], _feed.Released);
    }

    [Fact]
    public void Pending_pushes_are_kept_within_the_limit_and_the_rest_left_to_the_log()
    {
        var releaser = new SeqReleaser(pendingMaxBytes: EventSize.Of(Event(2)) * 2, _feed);
        releaser.OnRegistered(new Registration(0, _epoch));

        releaser.OnPush(Batch(2, 3, 4, 5));

        Assert.InRange(releaser.PendingBytes, 1, EventSize.Of(Event(2)) * 2);
        Assert.Equal(5, releaser.KnownLast);
    }

    [Fact]
    public void Retention_past_the_gap_reports_the_lost_seqs_and_moves_on()
    {
        _releaser.OnRegistered(new Registration(0, _epoch));
        _releaser.OnPush(Batch(5));

        _releaser.TakePage(new EventPage([Event(4), Event(5)], FirstRetainedSeq: 4, LastSeq: 5, Complete: false, _epoch), from: 0);

        Assert.Equal([(1L, 3L)], _feed.Losses);
        Assert.Equal([4L, 5], _feed.Released);
    }

    [Fact]
    public void Another_event_at_a_released_seq_is_a_contradiction_and_becomes_the_witness()
    {
        _releaser.OnRegistered(new Registration(0, _epoch));
        _releaser.OnPush(Batch(1, 2));
        Assert.Equal(new LogPosition(_epoch.Id, 2, "e2"), _releaser.Witness());

        var contradicted = _releaser.OnPush(new EventBatch("c", [Event(2) with { Id = "other" }], _epoch));

        Assert.True(contradicted);
        Assert.Equal(new LogPosition(_epoch.Id, 2, "e2"), _releaser.Witness());
        _releaser.OnRegistered(new Registration(2, _epoch));
        Assert.Equal(new LogPosition(_epoch.Id, 2, "e2"), _releaser.Witness());
    }

    [Fact]
    public void A_fork_below_what_was_released_goes_back_to_its_base_and_says_so()
    {
        _releaser.OnRegistered(new Registration(0, _epoch));
        _releaser.OnPush(Batch(1, 2, 3, 4, 5));
        var fork = LogEpoch.New(3, _epoch);

        _releaser.OnPush(new EventBatch("c", [Event(4) with { Id = "new4" }], fork));

        Assert.Equal([(5L, 3L)], _feed.Forks);
        Assert.Equal(fork, _releaser.Epoch);
        Assert.Equal([1L, 2, 3, 4, 5, 4], _feed.Released);
    }

    [Fact]
    public void A_push_or_page_from_an_older_epoch_is_ignored_but_a_registration_is_always_taken()
    {
        var fork = LogEpoch.New(2, _epoch);
        _releaser.OnRegistered(new Registration(2, fork));

        Assert.True(_releaser.OnPush(new EventBatch("c", [Event(3)], _epoch)));
        Assert.False(_releaser.TakePage(Page([Event(3)], lastSeq: 3, _epoch), from: 2));
        Assert.Empty(_feed.Released);

        var restarted = LogEpoch.New(0);
        _releaser.OnRegistered(new Registration(0, restarted));
        Assert.Equal(restarted, _releaser.Epoch);
        Assert.Equal(0, _releaser.Released);
    }

    private EventBatch Batch(params long[] seqs) => new("c", [.. seqs.Select(Event)], _epoch);

    private EventPage Page(EventEnvelope[] events, long lastSeq, LogEpoch? epoch = null) =>
        new(events, FirstRetainedSeq: 1, lastSeq, Complete: true, epoch ?? _epoch);

    private static EventEnvelope Event(long seq) =>
        new($"e{seq}", seq, "c", "test", "t", DateTimeOffset.UnixEpoch, "application/json", "{}"u8.ToArray(), null, null);

    private sealed class Recorder : SeqReleaser.ITarget
    {
        public List<long> Released { get; } = [];

        public List<bool> FromLog { get; } = [];

        public List<(long Released, long ValidUpTo)> Forks { get; } = [];

        public List<(long From, long To)> Losses { get; } = [];

        public void Release(EventEnvelope e, bool fromLog)
        {
            Released.Add(e.Seq);
            FromLog.Add(fromLog);
        }

        public void ReleaseEnded()
        {
        }

        public void Forked(long released, long validUpTo) => Forks.Add((released, validUpTo));

        public void Lost(long from, long to) => Losses.Add((from, to));
    }
}
