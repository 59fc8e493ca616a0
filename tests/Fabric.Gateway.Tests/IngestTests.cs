using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

/// <summary>Bad input gets a problem+json 4xx and stores nothing; history proves the nothing.</summary>
[Collection(GatewayCollection.Name)]
public sealed class IngestTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Health_endpoint_answers_200_when_the_cluster_is_up()
    {
        var response = await fixture.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_webhook_never_reads_a_credential_and_its_202_is_sent_whole()
    {
        var customer = await fixture.NewCustomerAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/{customer}/test")
        {
            Content = new StringContent("{\"type\":\"order.created\"}", Encoding.UTF8, "application/json"),
        };
        // A provider may send any Authorization header; a webhook is verified by its source's scheme, not by a key.
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-key");

        var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        // Written whole with its length, not chunked: one write for headers and body.
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Null(response.Headers.TransferEncodingChunked);
        Assert.Equal(1, JsonDocument.Parse(body).RootElement.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Oversized_body_is_rejected_with_413_and_nothing_is_stored_or_delivered()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);

        var big = "{\"type\":\"big\",\"pad\":\"" + new string('x', (int)GatewayFixture.MaxBodyBytes) + "\"}";
        await AssertProblemAsync(await fixture.PostWebhookAsync(customer, big), HttpStatusCode.RequestEntityTooLarge, "payload-too-large");

        // Without a Content-Length the limit still holds while streaming.
        var chunked = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/{customer}/test") { Content = new ChunkedContent(big) };
        await AssertProblemAsync(await fixture.Http.SendAsync(chunked), HttpStatusCode.RequestEntityTooLarge, "payload-too-large");

        await AssertOnlyMarkerArrivesAsync(customer, socket);
    }

    [Theory]
    [InlineData("text/plain", "{\"type\":\"x\"}", HttpStatusCode.UnsupportedMediaType, "unsupported-media-type")]
    [InlineData("application/x-www-form-urlencoded", "type=x", HttpStatusCode.UnsupportedMediaType, "unsupported-media-type")]
    [InlineData("application/json", "{\"type\":", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("application/json", "{} trailing", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("application/json", "", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("application/json", "{\"type\":\"has space\"}", HttpStatusCode.BadRequest, "invalid-type")]
    public async Task Non_json_or_malformed_body_is_rejected_and_nothing_is_stored_or_delivered(string contentType, string body, HttpStatusCode status, string problem)
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);

        await AssertProblemAsync(await fixture.PostWebhookAsync(customer, body, contentType: contentType), status, problem);
        await AssertOnlyMarkerArrivesAsync(customer, socket);
    }

    [Theory]
    [InlineData("/v1/webhooks/{0}/test")]
    [InlineData("/v1/customers/{0}/events")]
    public async Task Body_with_invalid_utf8_is_rejected_and_nothing_is_stored(string pathFormat)
    {
        var customer = await fixture.NewCustomerAsync();
        byte[] body = [.. "{\"type\":\"x\",\"data\":\""u8, 0xC3, 0x28, .. "\"}"u8];
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var response = await fixture.Http.PostAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, pathFormat, customer), content);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        var history = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events");
        Assert.Equal(0, history.GetProperty("lastSeq").GetInt64());
    }

    [Theory]
    [InlineData("/v1/webhooks/bad%20customer/test", "invalid-customer")]
    [InlineData("/v1/webhooks/-leading-dash/test", "invalid-customer")]
    [InlineData("/v1/webhooks/acme/bad%24source", "invalid-source")]
    public async Task Invalid_customer_or_source_in_the_path_is_rejected(string path, string problem)
    {
        var response = await fixture.Http.PostAsync(path, new StringContent("{}", Encoding.UTF8, "application/json"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, problem);
    }

    [Fact]
    public async Task Invalid_idempotency_key_is_rejected()
    {
        var response = await fixture.PostWebhookAsync(await fixture.NewCustomerAsync(), "{}", key: new string('k', 300));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-idempotency-key");
    }

    [Theory]
    [InlineData("{\"data\":{}}", "invalid-type")]
    [InlineData("{\"type\":\"x\"}", "missing-data")]
    [InlineData("[1,2]", "invalid-body")]
    [InlineData("{\"type\":\"x\",\"data\":1,\"id\":42}", "invalid-idempotency-key")]
    [InlineData("{\"type\":\"x\",", "invalid-json")]
    public async Task Publish_api_rejects_malformed_requests_and_stores_nothing(string body, string problem)
    {
        var customer = await fixture.NewCustomerAsync();
        var response = await fixture.Http.PostAsync($"/v1/customers/{customer}/events", new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, problem);
        var history = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events");
        Assert.Empty(history.GetProperty("events").EnumerateArray());
        Assert.Equal(0, history.GetProperty("lastSeq").GetInt64());
    }

    [Theory]
    [InlineData("after=-1")]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    public async Task History_rejects_out_of_range_paging(string query)
    {
        var response = await fixture.Http.GetAsync($"/v1/customers/{await fixture.NewCustomerAsync()}/events?{query}");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-range");
    }

    [Fact]
    public async Task History_pages_with_after_and_limit()
    {
        var customer = await fixture.NewCustomerAsync();
        for (var i = 0; i < 5; i++)
        {
            await fixture.PostWebhookAsync(customer, $$"""{"type":"t","i":{{i}}}""");
        }

        var page = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events?after=1&limit=2");
        Assert.Equal([2L, 3], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(3, page.GetProperty("next").GetInt64());
        Assert.Equal(5, page.GetProperty("lastSeq").GetInt64());
    }

    [Fact]
    public async Task Unsigned_source_takes_its_event_type_from_the_Fabric_header_before_the_body()
    {
        var customer = await fixture.NewCustomerAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/{customer}/{GatewayFixture.TestSource}")
        {
            Content = new StringContent("""{"type":"from.body"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Fabric-Event-Type", "from.header");
        request.Headers.Add("Idempotency-Key", "d-1");
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Http.SendAsync(request)).StatusCode);

        var history = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events");
        var e = Assert.Single(history.GetProperty("events").EnumerateArray());
        Assert.Equal("from.header", e.GetProperty("type").GetString());
        Assert.Equal("d-1", e.GetProperty("key").GetString());
    }

    private async Task AssertOnlyMarkerArrivesAsync(string customer, FabricSocket socket)
    {
        await fixture.PostWebhookAsync(customer, """{"type":"marker"}""");
        var e = Assert.Single(await socket.ReceiveEventsAsync(1));
        Assert.Equal(("marker", 1L), (e.Type(), e.Seq()));
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string problem)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("/" + problem, body.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
    }

    /// <summary>Content without a length, so the server has to enforce the limit while reading.</summary>
    private sealed class ChunkedContent(string text) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
