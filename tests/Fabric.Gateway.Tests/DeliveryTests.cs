using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class DeliveryTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Webhook_post_reaches_a_subscribed_socket_with_its_payload_intact()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        Assert.Equal("fabric.v1", socket.SubProtocol);
        Assert.Equal(customer, socket.Welcome.GetProperty("customer").GetString());
        await socket.SubscribeAsync(["*"]);

        var response = await fixture.PostWebhookAsync(customer, """{"type":"payment.succeeded","amount":4200,"nested":{"ok":true}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var ack = await response.Content.ReadFromJsonAsync<JsonElement>();

        var e = Assert.Single(await socket.ReceiveEventsAsync(1));
        Assert.Equal(ack.GetProperty("id").GetString(), e.GetProperty("id").GetString());
        Assert.Equal(1, e.Seq());
        Assert.Equal("payment.succeeded", e.Type());
        Assert.Equal(GatewayFixture.TestSource, e.GetProperty("source").GetString());
        Assert.Equal(4200, e.GetProperty("data").GetProperty("amount").GetInt32());
        Assert.True(e.GetProperty("data").GetProperty("nested").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Thousand_events_arrive_in_order_exactly_once_on_two_sockets_and_never_on_another_customers()
    {
        var customer = await fixture.NewCustomerAsync();
        var other = await fixture.NewCustomerAsync();
        await using var first = await fixture.ConnectAsync(customer);
        await using var second = await fixture.ConnectAsync(customer);
        await using var stranger = await fixture.ConnectAsync(other);
        await first.SubscribeAsync(["*"]);
        await second.SubscribeAsync(["*"]);
        await stranger.SubscribeAsync(["*"]);

        // Eight concurrent producers, so the grain and the pushes see real interleaving.
        const int total = 1000;
        await Parallel.ForAsync(0, total, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var response = await fixture.PostWebhookAsync(customer, $$"""{"type":"load.tick","i":{{i}}}""");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        });

        var expected = Enumerable.Range(1, total).Select(i => (long)i).ToList();
        Assert.Equal(expected, (await first.ReceiveEventsAsync(total)).Select(e => e.Seq()));
        Assert.Equal(expected, (await second.ReceiveEventsAsync(total)).Select(e => e.Seq()));

        // The stranger's first event is its own customer's marker: nothing of the other customer came before it.
        await fixture.PostWebhookAsync(other, """{"type":"marker"}""");
        var own = Assert.Single(await stranger.ReceiveEventsAsync(1));
        Assert.Equal("marker", own.Type());
        Assert.Equal(1, own.Seq());
    }

    [Fact]
    public async Task Reconnect_with_since_resumes_exactly_where_it_left_off()
    {
        var customer = await fixture.NewCustomerAsync();
        long lastSeen;
        await using (var socket = await fixture.ConnectAsync(customer))
        {
            await socket.SubscribeAsync(["*"]);
            for (var i = 1; i <= 5; i++)
            {
                await fixture.PostWebhookAsync(customer, $$"""{"type":"step","i":{{i}}}""");
            }

            lastSeen = (await socket.ReceiveEventsAsync(5))[^1].Seq();
        }

        // Missed while disconnected.
        for (var i = 6; i <= 9; i++)
        {
            await fixture.PostWebhookAsync(customer, $$"""{"type":"step","i":{{i}}}""");
        }

        await using var resumed = await fixture.ConnectAsync(customer);
        var subscribed = await resumed.SubscribeAsync(["*"], since: lastSeen);
        Assert.True(subscribed.GetProperty("recovered").GetBoolean());
        await fixture.PostWebhookAsync(customer, """{"type":"step","i":10}""");

        var events = await resumed.ReceiveEventsAsync(5);
        Assert.Equal([6L, 7, 8, 9, 10], events.Select(e => e.Seq()));
        Assert.Equal(10, events[^1].GetProperty("data").GetProperty("i").GetInt32());
        // Nothing twice: the next event the socket gets is the next one posted.
        await fixture.PostWebhookAsync(customer, """{"type":"step","i":11}""");
        Assert.Equal(11, (await resumed.ReceiveEventsAsync(1))[0].Seq());
    }

    [Fact]
    public async Task Since_beyond_the_end_of_the_log_is_reported_as_not_recovered_and_goes_live()
    {
        var customer = await fixture.NewCustomerAsync();
        await fixture.PostWebhookAsync(customer, """{"type":"only"}""");
        await using var socket = await fixture.ConnectAsync(customer);

        var subscribed = await socket.SubscribeAsync(["*"], since: 500);
        Assert.False(subscribed.GetProperty("recovered").GetBoolean());

        await fixture.PostWebhookAsync(customer, """{"type":"after"}""");
        Assert.Equal(2, Assert.Single(await socket.ReceiveEventsAsync(1)).Seq());
    }

    [Fact]
    public async Task Duplicate_idempotency_key_is_acknowledged_with_the_first_event_and_not_delivered_again()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);

        var first = await (await fixture.PostWebhookAsync(customer, """{"type":"charge"}""", key: "evt_123")).Content.ReadFromJsonAsync<JsonElement>();
        var again = await (await fixture.PostWebhookAsync(customer, """{"type":"charge"}""", key: "evt_123")).Content.ReadFromJsonAsync<JsonElement>();
        await fixture.PostWebhookAsync(customer, """{"type":"marker"}""");

        Assert.False(first.GetProperty("duplicate").GetBoolean());
        Assert.True(again.GetProperty("duplicate").GetBoolean());
        Assert.Equal(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());
        Assert.Equal(first.GetProperty("seq").GetInt64(), again.GetProperty("seq").GetInt64());
        Assert.Equal(["charge", "marker"], (await socket.ReceiveEventsAsync(2)).Select(e => e.Type()));
    }

    [Fact]
    public async Task Wildcard_topics_match_whole_types_and_prefixes_as_documented()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var filtered = await fixture.ConnectAsync(customer);
        await using var everything = await fixture.ConnectAsync(customer);
        await filtered.SubscribeAsync(["payment.*", "order.created"]);
        await everything.SubscribeAsync(["*"]);

        string[] types = ["payment.succeeded", "order.created", "order.updated", "payments", "payment.refund.created", "refund"];
        foreach (var type in types)
        {
            await fixture.PostWebhookAsync(customer, $$"""{"type":"{{type}}"}""");
        }

        Assert.Equal(types, (await everything.ReceiveEventsAsync(types.Length)).Select(e => e.Type()));
        Assert.Equal(["payment.succeeded", "order.created", "payment.refund.created"], (await filtered.ReceiveEventsAsync(3)).Select(e => e.Type()));
        // Nothing else: events go out in seq order, so a matching one posted now is the next frame.
        var marker = await (await fixture.PostWebhookAsync(customer, """{"type":"order.created"}""")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(marker.GetProperty("seq").GetInt64(), (await filtered.ReceiveEventsAsync(1))[0].Seq());
    }

    [Fact]
    public async Task Resume_replays_only_matching_history_then_continues_live()
    {
        var customer = await fixture.NewCustomerAsync();
        foreach (var type in new[] { "a.one", "b.one", "a.two" })
        {
            await fixture.PostWebhookAsync(customer, $$"""{"type":"{{type}}"}""");
        }

        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["a.*"], since: 0);
        await fixture.PostWebhookAsync(customer, """{"type":"a.three"}""");

        var events = await socket.ReceiveEventsAsync(3);
        Assert.Equal([1L, 3, 4], events.Select(e => e.Seq()));
    }

    [Fact]
    public async Task Unsubscribed_topics_stop_arriving()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["a", "b"]);
        await socket.SendAsync(new { op = "unsubscribe", topics = new[] { "a" } });
        var reply = await socket.ReceiveAsync();
        Assert.Equal("unsubscribed", reply.GetProperty("op").GetString());
        Assert.Equal(["b"], reply.GetProperty("remaining").EnumerateArray().Select(t => t.GetString()));

        await fixture.PostWebhookAsync(customer, """{"type":"a"}""");
        await fixture.PostWebhookAsync(customer, """{"type":"b"}""");
        Assert.Equal("b", Assert.Single(await socket.ReceiveEventsAsync(1)).Type());
    }

    [Fact]
    public async Task Published_events_reach_sockets_and_history()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["order.*"]);

        var response = await fixture.Http.PostAsJsonAsync($"/v1/customers/{customer}/events", new { type = "order.created", data = new { total = 12 }, id = "order-1" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var e = Assert.Single(await socket.ReceiveEventsAsync(1));
        Assert.Equal("api", e.GetProperty("source").GetString());
        Assert.Equal(12, e.GetProperty("data").GetProperty("total").GetInt32());

        var history = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events?after=0&limit=10");
        var kept = Assert.Single(history.GetProperty("events").EnumerateArray());
        Assert.Equal("order-1", kept.GetProperty("key").GetString());
        Assert.True(history.GetProperty("complete").GetBoolean());
    }
}
