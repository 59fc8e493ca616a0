using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Fabric.Contracts;
using Fabric.Gateway.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Tests;

/// <summary>
/// Pushes are best effort: they can arrive out of order, twice, or not at all. These tests hand a feed such pushes
/// directly (against the real grain, over a real WebSocket on loopback) and check what the socket receives.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class FeedOrderingTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Reordered_duplicated_and_lost_pushes_reach_the_socket_in_order_once_with_the_gap_filled()
    {
        var (grain, events) = await AppendAsync(5);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 0);

        // Seq 3 before 1, 1 twice, 2 never pushed, 4 and 5 only known from the grain.
        live.Push(events[2], events[0]);
        live.Push(events[0]);

        var seqs = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            seqs.Add((await pair.ReceiveAsync()).GetProperty("seq").GetInt64());
        }

        Assert.Equal([1L, 2, 3, 4, 5], seqs);
        live.Push(events[3], events[1]);   // late copies of released events
        await live.AssertNothingQueuedAsync(pair);
    }

    [Fact]
    public async Task A_push_beyond_what_the_grain_has_does_not_stall_later_events()
    {
        var (grain, events) = await AppendAsync(1);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 1);

        // A phantom seq 9 (as from a log that later lost data) must not hold back the real seq 2.
        live.Push(events[0] with { Seq = 9 });
        await Task.Delay(200);
        var second = await grain.Append(new IncomingEvent("test", "real", "application/json", "{}"u8.ToArray(), null, null));
        live.Push([.. (await grain.GetSince(1, 10)).Events]);

        Assert.Equal(second.Seq, (await pair.ReceiveAsync()).GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task An_event_larger_than_the_whole_send_queue_is_still_delivered()
    {
        var grain = fixture.Services.GetRequiredService<IGrainFactory>().GetGrain<ICustomerGrain>(GatewayFixture.NewCustomerId());
        var big = "{\"pad\":\"" + new string('x', 8 * 1024) + "\"}";
        await grain.Append(new IncomingEvent("test", "big", "application/json", Encoding.UTF8.GetBytes(big), null, null));
        await using var pair = await SocketPair.OpenAsync();
        var tinyQueue = new SocketOptions { SendQueueMaxBytes = 1024 };
        await using var live = await LiveFeed.StartAsync(grain, pair, registeredAt: 0, tinyQueue);

        live.Push([.. (await grain.GetSince(0, 10)).Events]);

        var frame = await pair.ReceiveAsync();
        Assert.Equal(8 * 1024, frame.GetProperty("data").GetProperty("pad").GetString()!.Length);
    }

    [Fact]
    public async Task A_new_epoch_forking_below_the_feed_makes_live_sockets_above_it_resync_with_4101()
    {
        // The feed released up to 5; the log now says its seqs above 3 belong to another epoch (it lost 4 and 5).
        var (grain, _) = await AppendAsync(3);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 5);

        live.Feed.OnRegistered(new Registration(3, new LogEpoch("forked", 3, live.Epoch.Id, 0, Generation: 1)));

        Assert.Null(await pair.TryReceiveAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((WebSocketCloseStatus)4101, pair.CloseStatus);
    }

    [Fact]
    public async Task A_new_epoch_forking_at_or_above_a_socket_leaves_it_live()
    {
        var (grain, events) = await AppendAsync(3);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 3);

        // Seqs up to 3 mean the same events in both epochs: the socket at 3 has lost nothing and stays.
        var forked = new LogEpoch("forked", 3, live.Epoch.Id, 0, Generation: 1);
        live.Feed.OnRegistered(new Registration(3, forked));
        live.Feed.OnEvents(new EventBatch(grain.GetPrimaryKeyString(), [events[0] with { Seq = 4, Id = "evt_4" }], forked));

        Assert.Equal("evt_4", (await pair.ReceiveAsync()).GetProperty("id").GetString());
        // A late push from the epoch the feed left (an older generation) is ignored, not delivered as seq 5.
        live.Push(events[0] with { Seq = 5 });
        await live.AssertNothingQueuedAsync(pair);
        Assert.Null(pair.CloseStatus);
    }

    [Fact]
    public async Task A_registration_reply_overtaken_by_a_push_does_not_resync_the_sockets()
    {
        // The reply said 1, but pushes up to 3 arrived first (they travel separately): the log did not go back.
        var (grain, events) = await AppendAsync(3);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 0);
        live.Push([.. events]);
        var seqs = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            seqs.Add((await pair.ReceiveAsync()).GetProperty("seq").GetInt64());
        }

        Assert.Equal([1L, 2, 3], seqs);

        live.Feed.OnRegistered(new Registration(1, live.Epoch));

        await grain.Append(new IncomingEvent("test", "t.next", "application/json", Encoding.UTF8.GetBytes("{}"), null, null));
        live.Push([.. (await grain.GetSince(3, 10)).Events]);
        Assert.Equal(4, (await pair.ReceiveAsync()).GetProperty("seq").GetInt64());
        Assert.Null(pair.CloseStatus);
    }

    [Fact]
    public async Task A_push_naming_another_event_at_a_released_seq_asks_for_a_renewal_with_that_witness()
    {
        // As from an activation that started from a head that had lost writes, in the same epoch: seq 2 is reused.
        var (grain, events) = await AppendAsync(3);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 0);
        live.Push([.. events]);
        for (var i = 0; i < 3; i++)
        {
            await pair.ReceiveAsync();
        }

        var renewals = 0;
        live.Feed.RenewalNeeded += _ => Interlocked.Increment(ref renewals);
        live.Push(events[1]);                                  // a late copy of the same event: nothing to say
        Assert.Equal(0, renewals);
        live.Push(events[1] with { Id = "evt_other" });        // another event at a released seq
        live.Push(events[2] with { Id = "evt_other_too" });    // one renewal at a time

        Assert.Equal(1, renewals);
        Assert.Equal(new LogPosition(live.Epoch.Id, 2, events[1].Id), live.Feed.Witness());
        await live.AssertNothingQueuedAsync(pair);
    }

    [Fact]
    public async Task A_log_that_started_over_is_followed_once_the_grain_answers_even_though_its_epoch_is_older()
    {
        var (grain, events) = await AppendAsync(2);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 2);
        var forked = new LogEpoch("forked", 2, live.Epoch.Id, 0, Generation: 1);
        live.Feed.OnRegistered(new Registration(2, forked));

        // The log starts over (generation 0 again): its pushes alone are not trusted, the grain's answer is.
        var restarted = new LogEpoch("restarted", 0);
        var renewals = 0;
        live.Feed.RenewalNeeded += _ => Interlocked.Increment(ref renewals);
        live.Feed.OnEvents(new EventBatch(live.Feed.Customer, [events[0] with { Id = "evt_new_1" }], restarted));
        Assert.Equal(1, renewals);
        live.Feed.OnRegistered(new Registration(1, restarted));

        // The socket was at 2, above what the new log shares with the old (nothing): told to resync.
        Assert.Null(await pair.TryReceiveAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((WebSocketCloseStatus)4101, pair.CloseStatus);
    }

    private async Task<(ICustomerGrain Grain, IReadOnlyList<EventEnvelope> Events)> AppendAsync(int count)
    {
        var grain = fixture.Services.GetRequiredService<IGrainFactory>().GetGrain<ICustomerGrain>(GatewayFixture.NewCustomerId());
        for (var i = 0; i < count; i++)
        {
            await grain.Append(new IncomingEvent("test", $"t.{i}", "application/json", Encoding.UTF8.GetBytes($"{{\"i\":{i}}}"), null, null));
        }

        return (grain, (await grain.GetSince(0, 100)).Events);
    }

    /// <summary>A feed registered at a seq, with one live socket subscribed to everything; stopped on dispose.</summary>
    private sealed class LiveFeed(CustomerFeed feed, SocketSession session, Task sending, LogEpoch epoch) : IAsyncDisposable
    {
        public CustomerFeed Feed => feed;

        /// <summary>The grain's epoch, which the feed was registered with.</summary>
        public LogEpoch Epoch => epoch;

        /// <summary>
        /// Nothing was queued for the socket: a push is released under the feed's lock before it returns, so a frame
        /// queued now arrives after anything the pushes so far delivered, and must be the next one.
        /// </summary>
        public async Task AssertNothingQueuedAsync(SocketPair pair)
        {
            session.Enqueue("{\"op\":\"marker\"}"u8.ToArray());
            Assert.Equal("marker", (await pair.ReceiveAsync()).GetProperty("op").GetString());
        }

        /// <summary>Pushes events to the feed as the grain would, in its epoch.</summary>
        public void Push(params EventEnvelope[] events) => feed.OnEvents(new EventBatch(feed.Customer, events, epoch));

        public static Task<LiveFeed> StartAsync(GatewayFixture fixture, ICustomerGrain grain, SocketPair pair, long registeredAt) =>
            StartAsync(grain, pair, registeredAt, fixture.Services.GetRequiredService<IOptions<SocketOptions>>().Value);

        public static async Task<LiveFeed> StartAsync(ICustomerGrain grain, SocketPair pair, long registeredAt, SocketOptions options)
        {
            var session = new SocketSession(grain.GetPrimaryKeyString(), SocketSession.NewId(), SocketPair.Admin, pair.Server, options, NullLogger.Instance);
            var feed = new CustomerFeed(session.Customer, grain, options, NullLogger.Instance);
            var member = feed.Add(session);
            var sending = session.RunSendLoopAsync();
            var epoch = (await grain.GetSince(0, 0)).Epoch;
            feed.OnRegistered(new Registration(registeredAt, epoch));
            await feed.SubscribeAsync(member, ["*"], since: null, epoch: null, @ref: null);
            Assert.Equal("subscribed", (await pair.ReceiveAsync()).GetProperty("op").GetString());
            await Eventually.True(() => session.QueuedBytes == 0);   // the send loop has accounted for the reply
            return new LiveFeed(feed, session, sending, epoch);
        }

        public async ValueTask DisposeAsync()
        {
            feed.Stop();
            session.RequestClose(CloseCodes.Normal, "done");
            await sending;
            session.Dispose();
        }
    }
}
