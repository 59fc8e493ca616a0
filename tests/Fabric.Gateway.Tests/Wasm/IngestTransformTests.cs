using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Fabric.Gateway.Tests.Wasm;

/// <summary>
/// Ingest transforms end to end over real Kestrel and Wasmtime: what the module decides is what the response, the
/// history and a subscribed socket see.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class IngestTransformTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_replacing_module_changes_the_type_and_data_that_sockets_and_history_see()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);
        var view = await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.Returning("""{"type":"changed.type","data":{"fixed":true}}"""));
        Assert.StartsWith("sha256:", view.GetProperty("hash").GetString(), StringComparison.Ordinal);
        Assert.Equal("keep", view.GetProperty("onError").GetString());

        var response = await fixture.PostWebhookAsync(customer, """{"type":"order.paid","secret":"s3cr3t"}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("seq").GetInt64());

        var pushed = (await socket.ReceiveEventsAsync(1))[0];
        Assert.Equal("changed.type", pushed.Type());
        Assert.Equal("""{"fixed":true}""", pushed.GetProperty("data").GetRawText());
        var kept = Assert.Single(await fixture.Http.HistoryAsync(customer));
        Assert.Equal("changed.type", kept.Type());
        Assert.DoesNotContain("s3cr3t", kept.GetRawText(), StringComparison.Ordinal);
        Assert.False(kept.TryGetProperty("original", out _));

        var counters = (await fixture.Http.GetFromJsonAsync<JsonElement>(TransformKit.SourcePath(customer))).GetProperty("counters");
        Assert.Equal((1, 1), (counters.GetProperty("calls").GetInt64(), counters.GetProperty("replaced").GetInt64()));
        Assert.True(counters.GetProperty("fuel").GetInt64() > 0);
    }

    [Fact]
    public async Task A_dropping_module_answers_202_dropped_and_stores_and_pushes_nothing()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.Drop);

        var response = await fixture.PostWebhookAsync(customer, """{"type":"noise"}""", key: "k-1");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("dropped").GetBoolean());
        Assert.False(body.TryGetProperty("seq", out _));
        Assert.Empty(await fixture.Http.HistoryAsync(customer));

        // Detached: the same key is new (a dropped event is not remembered), and it takes seq 1 — no seq was spent.
        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Http.DeleteAsync(TransformKit.SourcePath(customer))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync(TransformKit.SourcePath(customer))).StatusCode);
        var kept = await fixture.PostWebhookAsync(customer, """{"type":"signal"}""", key: "k-1");
        var keptBody = await kept.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((1L, false), (keptBody.GetProperty("seq").GetInt64(), keptBody.GetProperty("duplicate").GetBoolean()));
        var pushed = Assert.Single(await socket.ReceiveEventsAsync(1));
        Assert.Equal("signal", pushed.Type());
    }

    [Fact]
    public async Task A_keeping_module_leaves_the_event_as_received()
    {
        var customer = await fixture.NewCustomerAsync();
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.Keep);
        await fixture.PostWebhookAsync(customer, """{"type":"order.paid","amount":42}""");
        var kept = Assert.Single(await fixture.Http.HistoryAsync(customer));
        Assert.Equal("order.paid", kept.Type());
        Assert.Equal("""{"type":"order.paid","amount":42}""", kept.GetProperty("data").GetRawText());
        Assert.False(kept.TryGetProperty("transformError", out _));
    }

    [Fact]
    public async Task Init_receives_the_config_and_fabric_log_lines_are_readable_but_not_in_the_process_log()
    {
        var customer = await fixture.NewCustomerAsync();
        var view = await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.EchoConfig, config: new { tenant = "acme", min = 5 });
        Assert.Equal("""{"tenant":"acme","min":5}""", view.GetProperty("config").GetRawText());
        Assert.Equal("configured", view.GetProperty("logs")[0].GetProperty("message").GetString());

        await fixture.PostWebhookAsync(customer, """{"type":"x"}""");
        var kept = Assert.Single(await fixture.Http.HistoryAsync(customer));
        Assert.Equal("""{"tenant":"acme","min":5}""", kept.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task KeepOriginal_keeps_the_payload_as_received_in_history_but_not_on_sockets()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.Returning("""{"data":{"email":"[redacted]"}}"""), keepOriginal: true);

        await fixture.PostWebhookAsync(customer, """{"type":"user","email":"a@b.c"}""");
        var pushed = (await socket.ReceiveEventsAsync(1))[0];
        Assert.DoesNotContain("a@b.c", pushed.GetRawText(), StringComparison.Ordinal);
        var kept = Assert.Single(await fixture.Http.HistoryAsync(customer));
        Assert.Equal("""{"email":"[redacted]"}""", kept.GetProperty("data").GetRawText());
        Assert.Equal("""{"type":"user","email":"a@b.c"}""", kept.GetProperty("original").GetRawText());
    }

    [Fact]
    public async Task The_publish_API_and_socket_publishes_have_transforms_too()
    {
        var customer = await fixture.NewCustomerAsync();
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer, "api"), Modules.Returning("""{"type":"via.api"}"""));
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer, "socket"), Modules.Drop);

        var published = await fixture.Http.PostAsJsonAsync($"/v1/customers/{customer}/events", new { type = "t", data = new { n = 1 } });
        Assert.Equal(HttpStatusCode.Accepted, published.StatusCode);
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SendAsync(new { op = "publish", topic = "chat", data = new { text = "hi" }, @ref = "r1" });
        var reply = await socket.ReceiveOpAsync("published");
        Assert.True(reply.GetProperty("dropped").GetBoolean());
        Assert.Equal("r1", reply.GetProperty("ref").GetString());

        var kept = Assert.Single(await fixture.Http.HistoryAsync(customer));
        Assert.Equal(("via.api", "api"), (kept.Type(), kept.GetProperty("source").GetString()));
    }

    [Fact]
    public async Task A_batch_answers_each_event_by_what_its_module_did()
    {
        var customer = await fixture.NewCustomerAsync();
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer, "api"), Modules.Drop);
        var response = await fixture.Http.PostAsync($"/v1/customers/{customer}/events/batch", SessionAsserts.Json("""{"events":[{"type":"a","data":1},{"type":"b","data":2}]}"""));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray().ToList();
        Assert.All(results, r => Assert.True(r.GetProperty("dropped").GetBoolean()));
        Assert.Empty(await fixture.Http.HistoryAsync(customer));
    }

    [Fact]
    public async Task Transforms_attach_only_to_known_sources_of_known_customers()
    {
        var customer = await fixture.NewCustomerAsync();
        Assert.Equal("unknown-source", await TransformKit.ProblemAsync(await TransformKit.PutAsync(fixture.Http, TransformKit.SourcePath(customer, "nope"), Modules.Keep), HttpStatusCode.NotFound));
        Assert.Equal("unknown-customer", await TransformKit.ProblemAsync(await TransformKit.PutAsync(fixture.Http, TransformKit.SourcePath("c-nobody-here"), Modules.Keep), HttpStatusCode.NotFound));
        Assert.Equal("no-transform", await TransformKit.ProblemAsync(await fixture.Http.GetAsync(TransformKit.SourcePath(customer)), HttpStatusCode.NotFound));
        var text = await fixture.Http.PutAsync(TransformKit.SourcePath(customer), SessionAsserts.Json("\"x\"").WithType("text/plain"));
        Assert.Equal("unsupported-media-type", await TransformKit.ProblemAsync(text, HttpStatusCode.UnsupportedMediaType));

        // Customer keys cannot attach modules: the admin API is for admin keys.
        var key = await fixture.CreateKeyAsync(customer, "publish", "history", "subscribe");
        using var request = new HttpRequestMessage(HttpMethod.Put, TransformKit.SourcePath(customer)) { Content = Modules.Content(Modules.Keep) };
        request.Headers.Authorization = new("Bearer", key);
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.Http.SendAsync(request)).StatusCode);
    }
}

internal static class ContentExtensions
{
    public static StringContent WithType(this StringContent content, string mediaType)
    {
        content.Headers.ContentType = new(mediaType);
        return content;
    }
}
