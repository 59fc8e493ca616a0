using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Fabric.Distributed.Tests;

/// <summary>
/// Sessions across a real two-gateway cluster: clients that drop and reconnect at random to either gateway, presence and
/// an operator's disconnect spanning gateways, the sessions of a killed gateway expiring, and a graceful drain.
/// </summary>
[Collection(nameof(DistributedCollection))]
public sealed class SessionDrillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ten_thousand_events_reach_sockets_that_drop_and_reconnect_at_random_to_either_gateway_once_each_in_order()
    {
        await using var cluster = await LocalCluster.UpAsync();
        await using var drill = await Drill.StartAsync(cluster, ["chaos"], preferred: null, chaos: 42);
        var deadline = Stopwatch.StartNew();
        while (drill.Producer.Acked.Count < 10_000)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(2), $"only {drill.Producer.Acked.Count} events acknowledged");
            await Task.Delay(200);
        }

        await drill.FinishAsync(output);
        Assert.All(drill.Listeners, l => Assert.True(l.Reconnects >= 10, $"only {l.Reconnects} reconnects"));
        output.WriteLine($"reconnects per socket: {string.Join(", ", drill.Listeners.Select(l => l.Reconnects))}");
    }

    [Fact]
    public async Task A_drained_gateways_clients_get_4200_and_resume_on_the_other_gateway_with_nothing_missing()
    {
        await using var cluster = await LocalCluster.UpAsync(new() { ["Fabric__Sockets__DrainWindow"] = "00:00:02" });
        await using var drill = await Drill.StartAsync(cluster, ["drained"], preferred: 0);
        await Task.Delay(TimeSpan.FromSeconds(2));

        drill.Producer.Only = [cluster.Gateway2];
        await cluster.StopAsync("gateway1");   // SIGTERM: the graceful drain
        await Task.Delay(TimeSpan.FromSeconds(3));
        await drill.FinishAsync(output);

        Assert.All(drill.Listeners, l => Assert.Contains(l.Ends, end => end.StartsWith("close 4200", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Presence_and_an_operators_disconnect_span_both_gateways_and_a_killed_gateways_sessions_expire()
    {
        // Gateways renew every 2 s and grains drop a gateway silent for 10 s, so the expiry is seen within the test.
        await using var cluster = await LocalCluster.UpAsync(new()
        {
            ["Fabric__Sockets__RenewInterval"] = "00:00:02",
            ["Fabric__Customers__ObserverExpiry"] = "00:00:10",
        });
        const string customer = "presence";
        await cluster.RegisterAsync([customer], Producer.Source);
        using var admin = LocalCluster.AdminClient();
        var watcherKey = await KeyAsync(admin, cluster, customer);
        var bobKey = await KeyAsync(admin, cluster, customer);
        var carolKey = await KeyAsync(admin, cluster, customer);

        using var watcher = await ConnectAsync(cluster.Gateway1, customer, watcherKey);
        await SendAsync(watcher, new { op = "subscribe", topics = new[] { "chat.room1" }, presence = true });
        await ReceiveOpAsync(watcher, "subscribed");
        await ReceiveOpAsync(watcher, "join");   // its own

        using var bob = await ConnectAsync(cluster.Gateway2, customer, bobKey);
        var bobSession = (await ReceiveOpAsync(bob, "welcome")).GetProperty("session").GetString();
        await SendAsync(bob, new { op = "subscribe", topics = new[] { "chat.*" } });
        await ReceiveOpAsync(bob, "subscribed");
        var join = await ReceiveOpAsync(watcher, "join");
        Assert.Equal(Sub(bobKey), join.GetProperty("member").GetProperty("sub").GetString());

        await SendAsync(watcher, new { op = "presence", topic = "chat.room1" });
        var members = (await ReceiveOpAsync(watcher, "presence")).GetProperty("members").EnumerateArray().Select(m => m.GetProperty("sub").GetString()).Order();
        Assert.Equal(new[] { Sub(watcherKey), Sub(bobKey) }.Order(), members);

        // Listed through either gateway, each with the gateway that holds it.
        var listed = await admin.GetFromJsonAsync<JsonElement>(new Uri(cluster.Gateway1, $"/v1/admin/customers/{customer}/sessions"));
        Assert.Equal(2, listed.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("gateway").GetString()).Distinct().Count());

        // The operator closes bob's session (on gateway2) through gateway1.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(new Uri(cluster.Gateway1, $"/v1/admin/customers/{customer}/sessions/{bobSession}"))).StatusCode);
        Assert.Equal((WebSocketCloseStatus)4003, await WaitForCloseAsync(bob));
        Assert.Equal(Sub(bobKey), (await ReceiveOpAsync(watcher, "leave")).GetProperty("member").GetProperty("sub").GetString());

        // Carol joins on gateway2, which is then killed: her session expires, and the watcher hears her leave.
        using var carol = await ConnectAsync(cluster.Gateway2, customer, carolKey);
        await SendAsync(carol, new { op = "subscribe", topics = new[] { "chat.room1" } });
        await ReceiveOpAsync(carol, "subscribed");
        Assert.Equal(Sub(carolKey), (await ReceiveOpAsync(watcher, "join")).GetProperty("member").GetProperty("sub").GetString());
        await cluster.KillAsync("gateway2");
        Assert.Equal(Sub(carolKey), (await ReceiveOpAsync(watcher, "leave", TimeSpan.FromSeconds(40))).GetProperty("member").GetProperty("sub").GetString());
        var left = await admin.GetFromJsonAsync<JsonElement>(new Uri(cluster.Gateway1, $"/v1/admin/customers/{customer}/sessions"));
        Assert.Equal([Sub(watcherKey)], left.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("sub").GetString()));
    }

    private static string Sub(string apiKey) => apiKey.Split('~')[2];

    private static async Task<string> KeyAsync(HttpClient admin, LocalCluster cluster, string customer)
    {
        var response = await admin.PostAsJsonAsync(new Uri(cluster.Gateway1, $"/v1/admin/customers/{customer}/keys"), new { scopes = new[] { "subscribe" } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    private static async Task<ClientWebSocket> ConnectAsync(Uri gateway, string customer, string key)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("fabric.v1");
        socket.Options.SetRequestHeader("Authorization", "Bearer " + key);
        await socket.ConnectAsync(new Uri($"ws://{gateway.Authority}/v1/ws?customer={customer}"), CancellationToken.None);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, object frame) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonElement> ReceiveOpAsync(ClientWebSocket socket, string op, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(15));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, timeout.Token);
                Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            var frame = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
            if (frame.GetProperty("op").GetString() == op)
            {
                return frame;
            }
        }
    }

    private static async Task<WebSocketCloseStatus?> WaitForCloseAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[64 * 1024];
        while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
        {
        }

        return socket.CloseStatus;
    }
}
