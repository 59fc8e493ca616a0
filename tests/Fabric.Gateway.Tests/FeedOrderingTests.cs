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
        var feed = live.Feed;

        // Seq 3 before 1, 1 twice, 2 never pushed, 4 and 5 only known from the grain.
        feed.OnEvents([events[2], events[0]]);
        feed.OnEvents([events[0]]);

        var seqs = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            seqs.Add((await pair.ReceiveAsync()).GetProperty("seq").GetInt64());
        }

        Assert.Equal([1L, 2, 3, 4, 5], seqs);
        feed.OnEvents([events[3], events[1]]);   // late copies of released events
        Assert.Null(await pair.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_push_beyond_what_the_grain_has_does_not_stall_later_events()
    {
        var (grain, events) = await AppendAsync(1);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 1);
        var feed = live.Feed;

        // A phantom seq 9 (as from a log that later lost data) must not hold back the real seq 2.
        feed.OnEvents([events[0] with { Seq = 9 }]);
        await Task.Delay(200);
        var second = await grain.Append(new IncomingEvent("test", "real", "application/json", "{}"u8.ToArray(), null, null));
        feed.OnEvents((await grain.GetSince(1, 10)).Events);

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

        live.Feed.OnEvents((await grain.GetSince(0, 10)).Events);

        var frame = await pair.ReceiveAsync();
        Assert.Equal(8 * 1024, frame.GetProperty("data").GetProperty("pad").GetString()!.Length);
    }

    [Fact]
    public async Task A_log_that_went_back_behind_the_feed_makes_live_sockets_resync_with_4101()
    {
        // The feed released up to 5; the grain's log holds only 3 (a non-durable log that restarted and refilled).
        var (grain, _) = await AppendAsync(3);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 5);

        live.Feed.OnRegistered(3);

        Assert.Null(await pair.TryReceiveAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((WebSocketCloseStatus)4101, pair.CloseStatus);
    }

    [Fact]
    public async Task A_registration_reply_overtaken_by_a_push_does_not_resync_the_sockets()
    {
        // The reply said 1, but pushes up to 3 arrived first (they travel separately): the log did not go back.
        var (grain, events) = await AppendAsync(3);
        await using var pair = await SocketPair.OpenAsync();
        await using var live = await LiveFeed.StartAsync(fixture, grain, pair, registeredAt: 0);
        live.Feed.OnEvents(events);
        var seqs = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            seqs.Add((await pair.ReceiveAsync()).GetProperty("seq").GetInt64());
        }

        Assert.Equal([1L, 2, 3], seqs);

        live.Feed.OnRegistered(1);

        await grain.Append(new IncomingEvent("test", "t.next", "application/json", Encoding.UTF8.GetBytes("{}"), null, null));
        live.Feed.OnEvents((await grain.GetSince(3, 10)).Events);
        Assert.Equal(4, (await pair.ReceiveAsync()).GetProperty("seq").GetInt64());
        Assert.Null(pair.CloseStatus);
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
    private sealed class LiveFeed(CustomerFeed feed, SocketSession session, Task sending) : IAsyncDisposable
    {
        public CustomerFeed Feed => feed;

        public static Task<LiveFeed> StartAsync(GatewayFixture fixture, ICustomerGrain grain, SocketPair pair, long registeredAt) =>
            StartAsync(grain, pair, registeredAt, fixture.Services.GetRequiredService<IOptions<SocketOptions>>().Value);

        public static async Task<LiveFeed> StartAsync(ICustomerGrain grain, SocketPair pair, long registeredAt, SocketOptions options)
        {
            var session = new SocketSession(grain.GetPrimaryKeyString(), pair.Server, options, NullLogger.Instance);
            var feed = new CustomerFeed(session.Customer, grain, options, NullLogger.Instance);
            feed.Add(session);
            var sending = session.RunSendLoopAsync();
            feed.OnRegistered(registeredAt);
            await feed.SubscribeAsync(session, ["*"], since: null);
            Assert.Equal("subscribed", (await pair.ReceiveAsync()).GetProperty("op").GetString());
            await Eventually.True(() => session.QueuedBytes == 0);   // the send loop has accounted for the reply
            return new LiveFeed(feed, session, sending);
        }

        public async ValueTask DisposeAsync()
        {
            feed.Stop();
            session.RequestClose(CloseCodes.Normal, "done");
            await sending;
            session.Dispose();
        }
    }

    /// <summary>Two ends of a real WebSocket over a loopback TCP connection.</summary>
    private sealed class SocketPair : IAsyncDisposable
    {
        private readonly TcpClient _serverTcp;
        private readonly TcpClient _clientTcp;
        private readonly WebSocket _client;

        private SocketPair(TcpClient serverTcp, TcpClient clientTcp)
        {
            _serverTcp = serverTcp;
            _clientTcp = clientTcp;
            Server = WebSocket.CreateFromStream(serverTcp.GetStream(), new WebSocketCreationOptions { IsServer = true });
            _client = WebSocket.CreateFromStream(clientTcp.GetStream(), new WebSocketCreationOptions { IsServer = false });
        }

        public WebSocket Server { get; }

        public WebSocketCloseStatus? CloseStatus => _client.CloseStatus;

        public static async Task<SocketPair> OpenAsync()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var client = new TcpClient();
            var accepting = listener.AcceptTcpClientAsync();
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            return new SocketPair(await accepting, client);
        }

        public async Task<JsonElement> ReceiveAsync() =>
            await TryReceiveAsync(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("No frame arrived.");

        public async Task<JsonElement?> TryReceiveAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            var buffer = new byte[64 * 1024];
            try
            {
                var result = await _client.ReceiveAsync(buffer, cts.Token);
                return result.MessageType == WebSocketMessageType.Close ? null : JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.Clone();
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        public ValueTask DisposeAsync()
        {
            _client.Dispose();
            Server.Dispose();
            _clientTcp.Dispose();
            _serverTcp.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
