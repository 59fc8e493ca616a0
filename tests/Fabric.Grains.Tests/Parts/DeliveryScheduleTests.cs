using Fabric.Contracts;
using Fabric.Outbound.Endpoints;
using Microsoft.Extensions.Time.Testing;

namespace Fabric.Grains.Tests.Parts;

/// <summary>What an endpoint attempts next and when, on a clock the test moves: order, concurrency, rate, room, cursor.</summary>
public sealed class DeliveryScheduleTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly EndpointState _state = new() { ReadThrough = 0 };
    private readonly DeliverySchedule _schedule;

    public DeliveryScheduleTests() => _schedule = new DeliverySchedule(() => _state, maxPending: 100);

    private DateTimeOffset Now => _clock.GetUtcNow();

    private void Configure(bool ordered = false, int concurrency = 10, int? rate = null) =>
        _state.Config = new EndpointRecord("ep", "https://example.test/", ["*"], null, true, ordered, rate, concurrency, [], [TimeSpan.FromSeconds(5)],
            TimeSpan.FromSeconds(10), [], Now, Now, null);

    private void Open(params long[] seqs)
    {
        foreach (var seq in seqs)
        {
            _schedule.Open(new EventEnvelope($"evt_{seq}", seq, "c1", "test", "t", Now, "application/json", [], null, null, null, null, null), Now);
            _state.ReadThrough = Math.Max(_state.ReadThrough, seq);
        }

        _schedule.KnownLast = _state.ReadThrough;   // read to the log's end
    }

    private long[] TakeDue() => [.. _schedule.TakeDue(Now).Select(c => c.Message.Seq)];

    [Fact]
    public void An_unordered_endpoint_starts_up_to_its_concurrency_in_seq_order_and_passes_over_those_in_flight()
    {
        Configure(concurrency: 2);
        Open(1, 2, 3);

        Assert.Equal([1L, 2], TakeDue());
        Assert.Empty(TakeDue());                             // no room: two in flight
        var first = _schedule.Pending.First(m => m.Seq == 1);
        _schedule.Ended(first);
        first.Due = Now.AddSeconds(5);                       // its retry is later: the next due one goes
        Assert.Equal([3L], TakeDue());
    }

    [Fact]
    public void An_ordered_endpoint_attempts_only_its_oldest_open_message()
    {
        Configure(ordered: true);
        Open(1, 2, 3);

        Assert.Equal([1L], TakeDue());
        var first = _schedule.Pending.First(m => m.Seq == 1);
        _schedule.Ended(first);
        first.Due = Now.AddSeconds(5);                       // a retry later: nothing behind it goes first
        Assert.Empty(TakeDue());
        Assert.Equal(TimeSpan.FromSeconds(5), _schedule.NextWait(Now));

        _schedule.Close(first);
        Assert.Equal([2L], TakeDue());
    }

    [Fact]
    public void Manual_messages_go_before_open_ones()
    {
        Configure(concurrency: 1);
        Open(5);
        _state.Manual.Add(new Message { EventId = "evt_2", Seq = 2, Due = Now });

        var chosen = Assert.Single(_schedule.TakeDue(Now));
        Assert.Equal((2L, true), (chosen.Message.Seq, chosen.Manual));
    }

    [Fact]
    public void The_rate_is_a_bucket_of_one_seconds_worth_and_the_wait_is_until_the_next_token()
    {
        Configure(rate: 2);
        Open(1, 2, 3, 4);

        Assert.Equal(2, TakeDue().Length);
        Assert.Empty(TakeDue());
        Assert.Equal(TimeSpan.FromMilliseconds(500), _schedule.NextWait(Now));

        _clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Single(TakeDue());
    }

    [Fact]
    public void The_loop_reads_while_there_is_room_and_waits_for_nothing_when_it_has_nothing()
    {
        Configure(ordered: true);
        _schedule.KnownLast = 100;
        Assert.Equal(TimeSpan.Zero, _schedule.NextWait(Now));

        Open([.. Enumerable.Range(1, DeliverySchedule.ReadAhead).Select(i => (long)i)]);
        _schedule.KnownLast = 100;
        Assert.False(_schedule.HasRoom);                     // an ordered endpoint reads only a little ahead
        Assert.False(_schedule.WantsToRead);

        _state.Config = _state.Config! with { Enabled = false };
        Assert.Null(_schedule.NextWait(Now));
    }

    [Fact]
    public void The_cursor_moves_past_everything_settled_and_no_further()
    {
        Configure();
        Open(5, 7);
        _state.ReadThrough = 9;

        Assert.True(_schedule.AdvanceCursor());
        Assert.Equal(4, _state.Cursor);

        _schedule.Close(_schedule.Pending.First(m => m.Seq == 5));
        _schedule.AdvanceCursor();
        Assert.Equal(6, _state.Cursor);

        _schedule.Close(_schedule.Pending.First(m => m.Seq == 7));
        _schedule.AdvanceCursor();
        Assert.Equal(9, _state.Cursor);
        Assert.False(_schedule.AdvanceCursor());
    }
}
