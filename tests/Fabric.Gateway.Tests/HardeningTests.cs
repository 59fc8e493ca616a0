using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Fabric.Contracts;
using Fabric.Gateway.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Tests;

/// <summary>Limits in bytes, bounded waits, and numbers a client may not overflow.</summary>
[Collection(GatewayCollection.Name)]
public sealed class HardeningTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("9007199254740992")]
    public async Task History_after_beyond_the_largest_seq_is_refused(string after)
    {
        var customer = await fixture.NewCustomerAsync();
        await IngestTests.AssertProblemAsync(await fixture.Http.GetAsync($"/v1/customers/{customer}/events?after={after}"), HttpStatusCode.BadRequest, "invalid-range");
    }

    [Fact]
    public async Task Strangers_and_readers_leave_no_log_behind()
    {
        var log = Assert.IsType<Fabric.Grains.Log.InMemoryEventLog>(fixture.Services.GetRequiredService<Fabric.Grains.Log.IEventLog>());
        var before = log.CustomerCount;
        var quiet = await fixture.NewCustomerAsync();
        for (var i = 0; i < 10; i++)
        {
            var stranger = GatewayFixture.NewCustomerId();
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.PostWebhookAsync(stranger, """{"type":"x"}""")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.PostAsJsonAsync($"/v1/customers/{stranger}/events", new { type = "x", data = new { } })).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync($"/v1/customers/{stranger}/events")).StatusCode);
        }

        // A registered customer that never received an event: reading its history and holding a socket add nothing.
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync($"/v1/customers/{quiet}/events")).StatusCode);
        await using (var socket = await fixture.ConnectAsync(quiet))
        {
            await socket.SubscribeAsync(["*"], since: 0);
        }

        Assert.Equal(before, log.CustomerCount);
    }

    [Fact]
    public async Task History_page_is_bounded_by_bytes()
    {
        // 20 KiB pages; ten events of about 8 KiB each: two per page, whatever the limit asks for.
        await using var gateway = await TestGateway.StartAsync(new() { ["Fabric:Customers:PageMaxBytes"] = "20480" });
        var customer = await gateway.NewCustomerAsync();
        var pad = new string('x', 8 * 1024);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await gateway.PostWebhookAsync(customer, $$"""{"type":"big","i":{{i}},"pad":"{{pad}}"}""")).StatusCode);
        }

        var page = await gateway.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events?limit=1000");
        Assert.Equal([1L, 2], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(2, page.GetProperty("next").GetInt64());
        Assert.Equal(10, page.GetProperty("lastSeq").GetInt64());
    }

    [Fact]
    public async Task A_resume_from_another_epoch_of_the_log_replays_from_where_the_epochs_agree_with_recovered_false()
    {
        var customer = await fixture.NewCustomerAsync();
        for (var i = 0; i < 5; i++)
        {
            await fixture.PostWebhookAsync(customer, $$"""{"type":"t","i":{{i}}}""");
        }

        // As a client that read up to 3 from a log before it restarted: its 3 may not be this log's 3.
        await using var socket = await fixture.ConnectAsync(customer);
        var subscribed = await socket.SubscribeAsync(["*"], since: 3, epoch: "an-epoch-before-a-restart");
        Assert.False(subscribed.GetProperty("recovered").GetBoolean());
        Assert.Equal(0, subscribed.GetProperty("seq").GetInt64());
        Assert.Equal([1L, 2, 3, 4, 5], (await socket.ReceiveEventsAsync(5)).Select(e => e.Seq()));

        // The same position in the log's own epoch resumes as usual.
        await using var again = await fixture.ConnectAsync(customer);
        var same = await again.SubscribeAsync(["*"], since: 3, epoch: subscribed.GetProperty("epoch").GetString());
        Assert.True(same.GetProperty("recovered").GetBoolean());
        Assert.Equal([4L, 5], (await again.ReceiveEventsAsync(2)).Select(e => e.Seq()));
    }

    [Fact]
    public async Task Sockets_resuming_together_over_the_same_history_share_one_serialization_of_each_event()
    {
        var grain = fixture.Services.GetRequiredService<IGrainFactory>().GetGrain<ICustomerGrain>(GatewayFixture.NewCustomerId());
        for (var i = 0; i < 20; i++)
        {
            await grain.Append(new IncomingEvent("test", "t", "application/json", Encoding.UTF8.GetBytes($$"""{"i":{{i}}}"""), null, null));
        }

        var options = fixture.Services.GetRequiredService<IOptions<SocketOptions>>().Value;
        var feed = new CustomerFeed(grain.GetPrimaryKeyString(), grain, options, NullLogger.Instance);
        feed.OnRegistered(new Registration(20, (await grain.GetSince(0, 0)).Epoch));
        var pairs = new List<SocketPair>();
        var members = new List<FeedMember>();
        for (var s = 0; s < 5; s++)
        {
            var pair = await SocketPair.OpenAsync();
            pairs.Add(pair);
            var session = new SocketSession(feed.Customer, SocketSession.NewId(), SocketPair.Admin, pair.Server, options, NullLogger.Instance);
            members.Add(feed.Add(session));
            _ = session.RunSendLoopAsync();
        }

        // Five sockets resuming at once (as after a gateway restart), each from the start of the history.
        await Task.WhenAll(members.Select(member => feed.SubscribeAsync(member, ["*"], since: 0, epoch: null, @ref: null)));
        foreach (var pair in pairs)
        {
            Assert.Equal("subscribed", (await pair.ReceiveAsync()).GetProperty("op").GetString());
            for (var i = 1; i <= 20; i++)
            {
                Assert.Equal(i, (await pair.ReceiveAsync()).GetProperty("seq").GetInt64());
            }
        }

        Assert.Equal(20, feed.Frames.Serialized);
        feed.Stop();
        foreach (var pair in pairs)
        {
            await pair.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_gap_that_cannot_be_filled_closes_the_sockets_behind_it_with_4101_instead_of_stalling()
    {
        var options = new SocketOptions { GapFillTimeout = TimeSpan.FromSeconds(1), GapFillDelay = TimeSpan.Zero };
        await using var pair = await SocketPair.OpenAsync();
        var grain = new UnreadableGrain("c-unreadable");
        var session = new SocketSession(grain.Customer, SocketSession.NewId(), SocketPair.Admin, pair.Server, options, NullLogger.Instance);
        var feed = new CustomerFeed(grain.Customer, grain, options, NullLogger.Instance);
        var member = feed.Add(session);
        var sending = session.RunSendLoopAsync();
        feed.OnRegistered(new Registration(0, grain.Epoch));
        await feed.SubscribeAsync(member, ["*"], since: null, epoch: null, @ref: null);
        Assert.Equal("subscribed", (await pair.ReceiveAsync()).GetProperty("op").GetString());

        // Seq 2 arrives, seq 1 never does, and the grain cannot be read: the socket is told, not left waiting.
        feed.OnEvents(new EventBatch(grain.Customer, [UnreadableGrain.Event(2)], grain.Epoch));

        Assert.Null(await pair.TryReceiveAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal((WebSocketCloseStatus)4101, pair.CloseStatus);
        feed.Stop();
        await sending;
    }

    [Fact]
    public async Task A_feed_keeps_at_most_PendingMaxBytes_of_pushes_and_reads_the_rest_from_the_log()
    {
        var grain = fixture.Services.GetRequiredService<IGrainFactory>().GetGrain<ICustomerGrain>(GatewayFixture.NewCustomerId());
        for (var i = 0; i < 50; i++)
        {
            await grain.Append(new IncomingEvent("test", "t", "application/json", Encoding.UTF8.GetBytes($$"""{"i":{{i}},"pad":"{{new string('x', 200)}}"}"""), null, null));
        }

        var page = await grain.GetSince(0, 100);
        var options = fixture.Services.GetRequiredService<IOptions<SocketOptions>>().Value;
        var tight = new SocketOptions { PendingMaxBytes = 1024, GapFillDelay = TimeSpan.FromSeconds(1) };
        await using var pair = await SocketPair.OpenAsync();
        var session = new SocketSession(grain.GetPrimaryKeyString(), SocketSession.NewId(), SocketPair.Admin, pair.Server, tight, NullLogger.Instance);
        var feed = new CustomerFeed(session.Customer, grain, tight, NullLogger.Instance);
        var member = feed.Add(session);
        var sending = session.RunSendLoopAsync();
        feed.OnRegistered(new Registration(0, page.Epoch));
        await feed.SubscribeAsync(member, ["*"], since: null, epoch: null, @ref: null);
        Assert.Equal("subscribed", (await pair.ReceiveAsync()).GetProperty("op").GetString());

        // Seq 1 is missing: 2..50 wait, but only about 1 KiB of them is held.
        feed.OnEvents(new EventBatch(session.Customer, [.. page.Events.Skip(1)], page.Epoch));
        Assert.InRange(feed.PendingBytes, 1, 1024);

        var seqs = new List<long>();
        for (var i = 0; i < 50; i++)
        {
            seqs.Add((await pair.ReceiveAsync()).GetProperty("seq").GetInt64());
        }

        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), seqs);
        Assert.Equal(0, feed.PendingBytes);
        Assert.True(options.PendingMaxBytes > tight.PendingMaxBytes);
        feed.Stop();
        session.RequestClose(CloseCodes.Normal, "done");
        await sending;
    }

    /// <summary>A customer grain whose log cannot be read: the failure the gap filler must not wait on forever.</summary>
    private sealed class UnreadableGrain(string customer) : ICustomerGrain
    {
        public string Customer => customer;

        public LogEpoch Epoch { get; } = LogEpoch.New(0);

        public static EventEnvelope Event(long seq) =>
            new($"evt_{seq}", seq, "c-unreadable", "test", "t", DateTimeOffset.UtcNow, "application/json", "{}"u8.ToArray(), null, null);

        public Task<EventPage> GetSince(long afterSeq, int max) => throw new LogUnavailableException("unreadable");

        public Task<AppendResult> Append(IncomingEvent incoming) => throw new NotSupportedException();

        public Task<IReadOnlyList<AppendResult>> AppendBatch(IReadOnlyList<IncomingEvent> events) => throw new NotSupportedException();

        public Task<Registration> Subscribe(string gatewayId, long generation, IGatewayObserver observer, LogPosition? released) => throw new NotSupportedException();

        public Task Unsubscribe(string gatewayId, long generation) => throw new NotSupportedException();

        public Task<SessionAdmission> Connect(SessionInfo session, int limit) => throw new NotSupportedException();

        public Task UpdateSession(SessionInfo session) => throw new NotSupportedException();

        public Task Disconnect(string gatewayId, string session) => throw new NotSupportedException();

        public Task SyncSessions(string gatewayId, IReadOnlyList<SessionInfo> sessions) => throw new NotSupportedException();

        public Task<IReadOnlyList<SessionInfo>> GetSessions() => throw new NotSupportedException();

        public Task<IReadOnlyList<PresenceMember>> GetPresence(string topic) => throw new NotSupportedException();

        public Task<bool> Kick(string session) => throw new NotSupportedException();

        public Task<long> AddEndpoint(string endpoint, long cursor) => throw new NotSupportedException();

        public Task RemoveEndpoint(string endpoint) => throw new NotSupportedException();

        public Task<IReadOnlyList<string>> GetEndpoints() => throw new NotSupportedException();

        public Task EndpointProgress(string endpoint, long cursor) => throw new NotSupportedException();

        public Task<Fabric.Contracts.Transforms.TransformAttach> SetTransform(string source, Fabric.Contracts.Transforms.TransformSettings settings) => throw new NotSupportedException();

        public Task<Fabric.Contracts.Transforms.TransformView?> GetTransform(string source) => throw new NotSupportedException();

        public Task<bool> RemoveTransform(string source) => throw new NotSupportedException();
    }
}
