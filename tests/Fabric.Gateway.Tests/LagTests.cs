using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Fabric.Gateway.Sockets;
using Microsoft.Extensions.DependencyInjection;

namespace Fabric.Gateway.Tests;

/// <summary>
/// A socket that falls behind catches up from the log instead of being shed; only a client that takes nothing for the
/// lag grace period is closed as slow (4100). A gateway of its own, with a tiny send queue and a short grace period.
/// </summary>
public sealed class LagTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(new()
    {
        ["Fabric:Sockets:SendQueueMaxBytes"] = "16384",
        ["Fabric:Sockets:LagGracePeriod"] = "00:00:02",
        ["Fabric:Webhooks:MaxBodyBytes"] = "1048576",
    });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_prompt_reader_is_never_shed_under_a_burst_larger_than_its_queue_and_gets_every_event_once_in_order()
    {
        long lagged = 0;
        using var listener = Counters.Listen("fabric.gateway.lag_episodes", value => Interlocked.Add(ref lagged, value));
        var customer = await _gateway.NewCustomerAsync();
        await using var socket = await FabricSocket.ConnectAsync(_gateway.Http.BaseAddress!, customer);
        await socket.SubscribeAsync(["*"]);

        // 1,000 events of ~300 bytes in bursts of 200: each push is several times the 16 KiB queue.
        for (var burst = 0; burst < 5; burst++)
        {
            var events = Enumerable.Range(0, 200).Select(i => new { type = "burst", data = new { i, pad = new string('x', 200) } }).ToArray();
            Assert.Equal(HttpStatusCode.Accepted, (await _gateway.Http.PostAsJsonAsync($"/v1/customers/{customer}/events/batch", new { events })).StatusCode);
        }

        var seqs = (await socket.ReceiveEventsAsync(1000)).Select(e => e.Seq()).ToList();
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), seqs);
        Assert.Null(socket.CloseStatus);
        Assert.True(Interlocked.Read(ref lagged) > 0, "the burst never overflowed the queue: the test proves nothing");
    }

    [Fact]
    public async Task A_socket_resumed_from_beyond_the_logs_end_that_falls_behind_still_gets_every_later_event()
    {
        var customer = await _gateway.NewCustomerAsync();
        for (var i = 0; i < 5; i++)
        {
            await _gateway.PostWebhookAsync(customer, """{"type":"before"}""");
        }

        // A since from another log (beyond this one's end): the socket goes live at 5, not at 500.
        await using var socket = await FabricSocket.ConnectAsync(_gateway.Http.BaseAddress!, customer);
        Assert.Equal(5, (await socket.SubscribeAsync(["*"], since: 500)).GetProperty("seq").GetInt64());
        for (var burst = 0; burst < 5; burst++)
        {
            var events = Enumerable.Range(0, 200).Select(i => new { type = "burst", data = new { i, pad = new string('x', 200) } }).ToArray();
            Assert.Equal(HttpStatusCode.Accepted, (await _gateway.Http.PostAsJsonAsync($"/v1/customers/{customer}/events/batch", new { events })).StatusCode);
        }

        // Overflowing its queue, it catches up from where it stood (5), not from the 500 it asked for.
        Assert.Equal(Enumerable.Range(6, 1000).Select(i => (long)i), (await socket.ReceiveEventsAsync(1000)).Select(e => e.Seq()));
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_shed_with_4100_and_the_others_keep_receiving()
    {
        var customer = await _gateway.NewCustomerAsync();
        await using var reader = await FabricSocket.ConnectAsync(_gateway.Http.BaseAddress!, customer);
        await using var stopped = await FabricSocket.ConnectAsync(_gateway.Http.BaseAddress!, customer);
        await reader.SubscribeAsync(["*"]);
        await stopped.SubscribeAsync(["*"]);

        // About 13 MB: far more than the stopped client's socket buffers hold, so its sends block and it takes nothing.
        var pad = new string('x', 64 * 1024);
        var reading = reader.ReceiveEventsAsync(200);
        for (var batch = 0; batch < 20; batch++)
        {
            var events = Enumerable.Range(0, 10).Select(i => new { type = "big", data = new { i, pad } }).ToArray();
            Assert.Equal(HttpStatusCode.Accepted, (await _gateway.Http.PostAsJsonAsync($"/v1/customers/{customer}/events/batch", new { events })).StatusCode);
        }

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), (await reading).Select(e => e.Seq()));

        // The stopped client reads again once the gateway has shed it: what its buffers held, then the close.
        var registry = _gateway.Services.GetRequiredService<FeedRegistry>();
        var id = stopped.Welcome.GetProperty("session").GetString();
        await Eventually.True(() => registry.AllSessions().All(s => s.Id != id || s.CloseCode == 4100), TimeSpan.FromSeconds(30));
        for (var i = 0; i < 1000 && await stopped.TryReceiveAsync(TimeSpan.FromSeconds(10)) is not null; i++)
        {
        }

        Assert.Equal((WebSocketCloseStatus)4100, stopped.CloseStatus);
    }
}
