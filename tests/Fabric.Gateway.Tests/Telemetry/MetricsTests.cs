using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using Fabric.Gateway.Tests.Outbound;
using Fabric.Gateway.Tests.Webhooks;

namespace Fabric.Gateway.Tests.Telemetry;

/// <summary>
/// Fabric's metrics move as each case happens, read the way Prometheus reads them: <c>GET /metrics</c> before and after.
/// Alone in their collection (no test runs beside them), since every gateway in this process feeds the same meters.
/// </summary>
[Collection(Name)]
public sealed class MetricsTests : IAsyncLifetime
{
    public const string Name = "metrics";

    private Receiver _receiver = null!;
    private TestGateway _gateway = null!;

    private HttpClient Http => _gateway.Http;

    public async Task InitializeAsync()
    {
        _receiver = await Receiver.StartAsync();
        _gateway = await TestGateway.StartAsync(new()
        {
            ["Fabric:Outbound:AllowedHosts:0"] = "127.0.0.1",
            ["Fabric:Sockets:SendQueueMaxBytes"] = "16384",
            ["Fabric:Sockets:LagGracePeriod"] = "00:00:02",
            ["Fabric:Webhooks:MaxBodyBytes"] = "1048576",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Metrics_serves_the_prometheus_text_format_with_fabrics_orleans_and_the_runtimes_meters()
    {
        var customer = await _gateway.NewCustomerAsync();
        await using (var socket = await FabricSocket.ConnectAsync(Http.BaseAddress!, customer))
        {
            await socket.SubscribeAsync(["*"]);
            await _gateway.PostWebhookAsync(customer, """{"type":"warm"}""");
            await socket.ReceiveEventsAsync(1);
        }

        PrometheusScrape scrape = null!;
        // The socket's write is measured once its bytes are out, just after the client has them.
        await Eventually.True(async () => (scrape = await PrometheusScrape.ReadAsync(Http)).Sum("fabric_gateway_e2e_latency_milliseconds_count") > 0);
        Assert.Contains("# TYPE fabric_gateway_ingested_total counter", scrape.Text, StringComparison.Ordinal);
        Assert.True(scrape.Has("fabric_events_appended_total"));
        Assert.True(scrape.Has("fabric_log_append_latency_milliseconds_bucket"));
        Assert.True(scrape.Has("fabric_gateway_send_queue_bytes"));
        Assert.Contains(scrape.Text.Split('\n'), l => l.StartsWith("orleans_", StringComparison.Ordinal));
        Assert.Contains(scrape.Text.Split('\n'), l => l.StartsWith("dotnet_gc_", StringComparison.Ordinal));
        // No customer, event or key ever becomes a label.
        Assert.DoesNotContain(customer, scrape.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accepted_duplicate_and_each_rejection_reason_are_counted()
    {
        var customer = await _gateway.NewCustomerAsync();
        (await Http.PutAsync($"/v1/admin/customers/{customer}/sources/stripe", new StringContent("""{"scheme":"stripe","secrets":["whsec_metrics0123456789"]}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var before = await PrometheusScrape.ReadAsync(Http);

        Assert.Equal(HttpStatusCode.Accepted, (await _gateway.PostWebhookAsync(customer, """{"type":"a"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await GatewayFixture.PostWebhookAsync(Http, customer, """{"type":"b"}""", key: "k-1")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await GatewayFixture.PostWebhookAsync(Http, customer, """{"type":"b"}""", key: "k-1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _gateway.PostWebhookAsync("c-nobody", """{"type":"a"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _gateway.PostWebhookAsync(customer, """{"type":""")).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await GatewayFixture.PostWebhookAsync(Http, customer, "a=b", contentType: "text/plain")).StatusCode);
        var unsigned = await Http.PostAsync($"/v1/webhooks/{customer}/stripe", new StringContent("""{"type":"charge.succeeded"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        using (var anonymous = new HttpClient { BaseAddress = Http.BaseAddress })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync($"/v1/customers/{customer}/events", new { type = "t", data = 1 })).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await Http.PostAsJsonAsync($"/v1/customers/{customer}/events/batch", new { events = new object[] { new { type = "ok", data = 1 }, new { type = "no spaces allowed", data = 2 } } })).StatusCode);
        await using (var socket = await FabricSocket.ConnectAsync(Http.BaseAddress!, customer))
        {
            await socket.SendAsync(new { op = "publish", topic = "bad topic", data = 1, @ref = "r" });
            await socket.ReceiveOpAsync("error");
        }

        var after = await PrometheusScrape.ReadAsync(Http);
        double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.Equal(3, Delta("fabric_gateway_ingested_total", ("duplicate", "false")));
        Assert.Equal(1, Delta("fabric_gateway_ingested_total", ("duplicate", "true")));
        Assert.Equal(1, Delta("fabric_events_duplicates_total"));
        Assert.Equal(1, Delta("fabric_gateway_rejected_total", ("surface", "webhook"), ("reason", "unknown-source")));
        Assert.Equal(1, Delta("fabric_gateway_rejected_total", ("surface", "webhook"), ("reason", "invalid-json")));
        Assert.Equal(1, Delta("fabric_gateway_rejected_total", ("surface", "webhook"), ("reason", "unsupported-media-type")));
        Assert.Equal(1, Delta("fabric_gateway_rejected_total", ("surface", "webhook"), ("reason", "missing-signature")));
        Assert.Equal(1, Delta("fabric_gateway_signature_failures_total", ("scheme", "stripe"), ("reason", "missing-signature")));
        Assert.Equal(1, Delta("fabric_gateway_rejected_total", ("surface", "api"), ("reason", "unauthorized")));
        Assert.Equal(1, Delta("fabric_gateway_rejected_total", ("surface", "api"), ("reason", "invalid-type")));
        Assert.Equal(1, Delta("fabric_gateway_rejected_total", ("surface", "socket"), ("reason", "invalid_topic")));
        Assert.Equal(7, Delta("fabric_gateway_rejected_total"));
    }

    [Fact]
    public async Task A_resume_counts_whether_history_covered_it_and_a_socket_counts_its_close_code()
    {
        var customer = await _gateway.NewCustomerAsync();
        await _gateway.PostWebhookAsync(customer, """{"type":"a"}""");
        var before = await PrometheusScrape.ReadAsync(Http);

        await using (var covered = await FabricSocket.ConnectAsync(Http.BaseAddress!, customer))
        {
            Assert.True((await covered.SubscribeAsync(["*"], since: 0)).GetProperty("recovered").GetBoolean());
        }

        await using (var beyond = await FabricSocket.ConnectAsync(Http.BaseAddress!, customer))
        {
            Assert.False((await beyond.SubscribeAsync(["*"], since: 500)).GetProperty("recovered").GetBoolean());
        }

        PrometheusScrape after = null!;
        await Eventually.True(async () => (after = await PrometheusScrape.ReadAsync(Http)).Sum("fabric_gateway_closes_total", ("code", "1000")) - before.Sum("fabric_gateway_closes_total", ("code", "1000")) == 2);
        Assert.Equal(1, after.Sum("fabric_gateway_recoveries_total", ("recovered", "true")) - before.Sum("fabric_gateway_recoveries_total", ("recovered", "true")));
        Assert.Equal(1, after.Sum("fabric_gateway_recoveries_total", ("recovered", "false")) - before.Sum("fabric_gateway_recoveries_total", ("recovered", "false")));
    }

    [Fact]
    public async Task A_client_that_stops_reading_counts_as_a_slow_consumer_closed_with_4100()
    {
        var customer = await _gateway.NewCustomerAsync();
        var before = await PrometheusScrape.ReadAsync(Http);
        await using var stopped = await FabricSocket.ConnectAsync(Http.BaseAddress!, customer);
        await stopped.SubscribeAsync(["*"]);

        // About 13 MB, far past what the socket buffers hold: the client takes nothing for the grace period.
        var pad = new string('x', 64 * 1024);
        for (var batch = 0; batch < 20; batch++)
        {
            var events = Enumerable.Range(0, 10).Select(i => new { type = "big", data = new { i, pad } }).ToArray();
            Assert.Equal(HttpStatusCode.Accepted, (await Http.PostAsJsonAsync($"/v1/customers/{customer}/events/batch", new { events })).StatusCode);
        }

        // Shed once it has taken nothing for the grace period; then it reads what its buffers held, and the close.
        await Eventually.True(
            async () => (await PrometheusScrape.ReadAsync(Http)).Sum("fabric_gateway_slow_consumers_total") > before.Sum("fabric_gateway_slow_consumers_total"),
            TimeSpan.FromSeconds(30));
        for (var i = 0; i < 1000 && await stopped.TryReceiveAsync(TimeSpan.FromSeconds(10)) is not null; i++)
        {
        }

        Assert.Equal((WebSocketCloseStatus)4100, stopped.CloseStatus);
        PrometheusScrape after = null!;
        await Eventually.True(async () => (after = await PrometheusScrape.ReadAsync(Http)).Sum("fabric_gateway_closes_total", ("code", "4100")) > before.Sum("fabric_gateway_closes_total", ("code", "4100")));
        Assert.Equal(1, after.Sum("fabric_gateway_slow_consumers_total") - before.Sum("fabric_gateway_slow_consumers_total"));
    }

    [Fact]
    public async Task An_endpoint_that_fails_counts_the_failed_attempt_and_the_message_failed_for_good()
    {
        var customer = await _gateway.NewCustomerAsync();
        var path = _receiver.Path((_, _) => new Answer(500));
        var endpoint = new { url = _receiver.Url(path), retrySchedule = new[] { "00:00:01" } };
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints", endpoint)).StatusCode);
        var before = await PrometheusScrape.ReadAsync(Http);

        await _gateway.PostWebhookAsync(customer, """{"type":"order.paid"}""");

        PrometheusScrape after = null!;
        await Eventually.True(async () => (after = await PrometheusScrape.ReadAsync(Http)).Sum("fabric_outbound_failed_total") > before.Sum("fabric_outbound_failed_total"));
        // The first attempt and its one retry.
        Assert.Equal(2, after.Sum("fabric_outbound_attempts_total", ("outcome", "failure")) - before.Sum("fabric_outbound_attempts_total", ("outcome", "failure")));
        Assert.Equal(0, after.Sum("fabric_outbound_delivered_total") - before.Sum("fabric_outbound_delivered_total"));
    }
}

[CollectionDefinition(MetricsTests.Name, DisableParallelization = true)]
public sealed class MetricsCollection;
