using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Fabric.Distributed.Tests;

/// <summary>
/// What a real Redis under a real cluster must show: strangers leave nothing behind, a customer's gateway registration
/// goes with its last socket, and a log that lost its tail never lets a socket miss events in silence.
/// </summary>
[Collection(nameof(DistributedCollection))]
public sealed class HardeningTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Unknown_customers_leave_nothing_in_redis_and_a_registration_goes_with_the_last_socket()
    {
        await using var cluster = await LocalCluster.UpAsync();
        var customer = "known-" + Guid.NewGuid().ToString("N")[..8];
        await cluster.RegisterAsync([customer], "drill");
        using var admin = LocalCluster.AdminClient();
        var before = await cluster.RedisKeysAsync();

        // 30 requests for made-up ids on every surface: webhooks, publish, history, sockets.
        for (var i = 0; i < 10; i++)
        {
            var stranger = "stranger-" + Guid.NewGuid().ToString("N")[..8];
            var gateway = cluster.Gateways[i % 2];
            Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync(new Uri(gateway, $"/v1/webhooks/{stranger}/drill"), Json("""{"type":"x"}"""))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync(new Uri(gateway, $"/v1/customers/{stranger}/events"), Json("""{"type":"x","data":{}}"""))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(new Uri(gateway, $"/v1/customers/{stranger}/events"))).StatusCode);
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(SocketUri(gateway, stranger), CancellationToken.None));
            Assert.Equal(HttpStatusCode.NotFound, socket.HttpStatusCode);
        }

        Assert.Equal(before, await cluster.RedisKeysAsync());

        // A known customer's socket registers its gateway (grain state in Redis); when the socket leaves, that record
        // is cleared, not left behind empty.
        using (var socket = new ClientWebSocket())
        {
            await socket.ConnectAsync(SocketUri(cluster.Gateway1, customer), CancellationToken.None);
            await SendAsync(socket, new { op = "subscribe", topics = new[] { "*" } });
            Assert.Equal("welcome", (await ReceiveAsync(socket)).GetProperty("op").GetString());
            Assert.Equal("subscribed", (await ReceiveAsync(socket)).GetProperty("op").GetString());
            var registered = (await cluster.RedisKeysAsync()).Except(before).ToArray();
            Assert.NotEmpty(registered);
            output.WriteLine("while connected: " + string.Join(", ", registered));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }

        string[] after = [];
        for (var attempt = 0; attempt < 50; attempt++)
        {
            after = await cluster.RedisKeysAsync();
            if (after.SequenceEqual(before))
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Seq_rollback_in_redis_resyncs_live_and_resuming_sockets()
    {
        await using var cluster = await LocalCluster.UpAsync();
        var customer = "rollback-" + Guid.NewGuid().ToString("N")[..8];
        await cluster.RegisterAsync([customer], "drill");
        using var http = new HttpClient();

        // A live socket on each gateway, both at seq 10.
        using var live1 = await SubscribeAsync(cluster.Gateway1, customer, since: null, epoch: null);
        using var live2 = await SubscribeAsync(cluster.Gateway2, customer, since: null, epoch: null);
        var epoch = live1.Epoch;
        for (var i = 1; i <= 10; i++)
        {
            await PostAsync(http, cluster.Gateway1, customer, $"before-{i}");
        }

        Assert.Equal(10, (await live1.EventsAsync(10)).Last().Seq);
        Assert.Equal(10, (await live2.EventsAsync(10)).Last().Seq);

        // As a Redis crash under appendfsync everysec leaves the log: the last 4 entries, and the seq, gone.
        var log = $"fabric:{{{customer}}}:log";
        await cluster.RedisAsync("XDEL", log, "7-0", "8-0", "9-0", "10-0");
        await cluster.RedisAsync("XSETID", log, "6-0");
        await cluster.RedisAsync("DEL", $"fabric:{{{customer}}}:seq");

        // Ten new events; producers retry what is refused while the log moves to a new epoch.
        for (var i = 1; i <= 10; i++)
        {
            await PostAsync(http, cluster.Gateway2, customer, $"after-{i}");
        }

        // Each live socket either receives the new events or is told to resync — never silence.
        foreach (var live in new[] { live1, live2 })
        {
            var outcome = await live.NextOutcomeAsync();
            output.WriteLine($"live socket: {outcome}");
            Assert.True(outcome is "resync" or "after-1", $"a live socket got {outcome}");
        }

        // A client that had read up to 10 resumes with its epoch: told recovered:false, it gets every new event.
        using var resumed = await SubscribeAsync(cluster.Gateway1, customer, since: 10, epoch: epoch);
        Assert.False(resumed.Recovered);
        var replayed = await resumed.EventsAsync(10);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"after-{i}"), replayed.Select(e => e.Key));
        Assert.Equal(Enumerable.Range(7, 10).Select(i => (long)i), replayed.Select(e => e.Seq));
    }

    private static async Task PostAsync(HttpClient http, Uri gateway, string customer, string key)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, $"/v1/webhooks/{customer}/drill")) { Content = Json("""{"type":"drill"}""") };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return;
            }

            Assert.True(attempt < 50 && response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{key}: {(int)response.StatusCode}");
            await Task.Delay(200);
        }
    }

    private static async Task<Subscription> SubscribeAsync(Uri gateway, string customer, long? since, string? epoch)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(SocketUri(gateway, customer), CancellationToken.None);
        await SendAsync(socket, since is null ? new { op = "subscribe", topics = new[] { "*" } } : new { op = "subscribe", topics = new[] { "*" }, since, epoch });
        Assert.Equal("welcome", (await ReceiveAsync(socket)).GetProperty("op").GetString());
        var subscribed = await ReceiveAsync(socket);
        return new Subscription(socket, subscribed.GetProperty("epoch").GetString()!, subscribed.GetProperty("recovered").GetBoolean());
    }

    private static Uri SocketUri(Uri gateway, string customer) => new($"ws://{gateway.Authority}/v1/ws?customer={customer}&access_token={LocalCluster.AdminKey}");

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task SendAsync(ClientWebSocket socket, object frame) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next frame, or null once the socket closed.</summary>
    private static async Task<JsonElement> ReceiveAsync(ClientWebSocket socket) =>
        await TryReceiveAsync(socket) ?? throw new InvalidOperationException($"closed: {socket.CloseStatus}");

    private static async Task<JsonElement?> TryReceiveAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
    }

    private sealed class Subscription(ClientWebSocket socket, string epoch, bool recovered) : IDisposable
    {
        public string Epoch => epoch;

        public bool Recovered => recovered;

        public async Task<List<(long Seq, string? Key)>> EventsAsync(int count)
        {
            var events = new List<(long, string?)>();
            while (events.Count < count)
            {
                var frame = await ReceiveAsync(socket);
                if (frame.GetProperty("op").GetString() == "event")
                {
                    events.Add((frame.GetProperty("seq").GetInt64(), frame.TryGetProperty("key", out var key) ? key.GetString() : null));
                }
            }

            return events;
        }

        /// <summary>"resync" when the socket was closed with 4101, else the key of the next event it received.</summary>
        public async Task<string> NextOutcomeAsync()
        {
            while (true)
            {
                if (await TryReceiveAsync(socket) is not { } frame)
                {
                    return socket.CloseStatus == (WebSocketCloseStatus)4101 ? "resync" : $"closed {socket.CloseStatus}";
                }

                if (frame.GetProperty("op").GetString() == "event")
                {
                    return frame.GetProperty("key").GetString()!;
                }
            }
        }

        public void Dispose() => socket.Dispose();
    }
}
