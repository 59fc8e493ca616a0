using Fabric.Gateway.Sockets;
using Microsoft.Extensions.Time.Testing;

namespace Fabric.Gateway.Tests.Parts;

/// <summary>A socket's send queue on its own: order, the drop a catch-up makes, room for a replay, and the stall clock.</summary>
public sealed class SendQueueTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly SendQueue _queue;

    public SendQueueTests() => _queue = new SendQueue(_clock);

    [Fact]
    public void A_drop_takes_the_events_behind_the_last_positional_reply_and_keeps_every_reply_in_order()
    {
        _queue.Add(Event(1));
        _queue.Add(Reply(SendQueue.Positional));
        _queue.Add(Event(2));
        _queue.Add(Reply(0));
        _queue.Add(Event(3));

        Assert.Equal(2, _queue.DropEvents());

        var left = new List<SendQueue.Outgoing>();
        _queue.TakeBatch(left, long.MaxValue);
        Assert.Equal([1L, SendQueue.Positional, 0], left.Select(o => o.Seq));
        Assert.Equal(left.Sum(o => o.Frame.Length), _queue.Bytes);
    }

    [Fact]
    public void A_drop_with_no_event_past_the_fence_drops_nothing()
    {
        _queue.Add(Event(1));
        _queue.Add(Reply(SendQueue.Positional));

        Assert.Null(_queue.DropEvents());
        Assert.Equal(20, _queue.Bytes);
    }

    [Fact]
    public void A_batch_takes_about_one_writes_worth_in_order()
    {
        for (var seq = 1; seq <= 10; seq++)
        {
            _queue.Add(Event(seq));
        }

        var batch = new List<SendQueue.Outgoing>();
        _queue.TakeBatch(batch, maxBytes: 30);

        Assert.Equal([1L, 2, 3], batch.Select(o => o.Seq));
        Assert.Equal(100, _queue.Bytes);
        _queue.Written(30);
        Assert.Equal(70, _queue.Bytes);
    }

    [Fact]
    public async Task A_replay_waits_for_room_until_the_send_loop_writes()
    {
        for (var seq = 1; seq <= 6; seq++)
        {
            _queue.Add(Event(seq));
        }

        var room = _queue.RoomOrWait(half: 50, max: 100, next: 10);
        Assert.NotNull(room);
        Assert.False(room.IsCompleted);

        _queue.Written(20);

        await room.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Null(_queue.RoomOrWait(half: 50, max: 100, next: 10));
    }

    [Fact]
    public void The_wait_for_the_client_starts_when_the_queue_fills_and_ends_with_each_write()
    {
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.Zero, _queue.Waiting);

        _queue.Add(Event(1));
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(3), _queue.Waiting);

        _queue.Add(Event(2));
        _queue.Written(10);
        Assert.Equal(TimeSpan.Zero, _queue.Waiting);
    }

    [Fact]
    public async Task Closing_lets_the_send_loop_take_its_last_ring_and_stop()
    {
        _queue.Add(Event(1));
        _queue.Close();

        Assert.True(await _queue.WaitForRingAsync());
        Assert.False(await _queue.WaitForRingAsync());
    }

    private static SendQueue.Outgoing Event(long seq) => new(new byte[10], seq);

    private static SendQueue.Outgoing Reply(long seq) => new(new byte[10], seq);
}
