using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests.Webhooks;

/// <summary>CloudEvents 1.0 in, produced by the npm <c>cloudevents</c> SDK: structured, binary and batch.</summary>
[Collection(GatewayCollection.Name)]
public sealed class CloudEventsTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("structured")]
    [InlineData("binary")]
    public async Task A_cloudevent_keeps_its_context_in_the_socket_frame_and_the_history(string mode)
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["com.example.*"]);
        var cloudEvent = new { type = "com.example.order.paid", source = "/orders/eu", id = "A234-1234", subject = "order/42", time = "2026-11-23T10:00:00Z", data = new { amount = 4200 } };
        var signed = (await Signers.SignAsync(new { scheme = "cloudevents", mode, @event = cloudEvent }))[0];

        var response = await WebhookRequests.SendAsync(fixture.Http, $"/v1/webhooks/{customer}/{GatewayFixture.TestSource}", signed);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var e = Assert.Single(await socket.ReceiveEventsAsync(1));
        AssertContext(e);
        var history = (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("events")[0];
        AssertContext(history);

        // Sent again, the same source + id is the same event.
        var again = await WebhookRequests.SendAsync(fixture.Http, $"/v1/webhooks/{customer}/{GatewayFixture.TestSource}", signed);
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());

        static void AssertContext(JsonElement e)
        {
            Assert.Equal("com.example.order.paid", e.Type());
            Assert.Equal(4200, e.GetProperty("data").GetProperty("amount").GetInt32());
            var ce = e.GetProperty("ce");
            Assert.Equal(("1.0", "A234-1234", "/orders/eu", "order/42"), (ce.GetProperty("specversion").GetString(), ce.GetProperty("id").GetString(), ce.GetProperty("source").GetString(), ce.GetProperty("subject").GetString()));
            Assert.Equal(DateTimeOffset.Parse("2026-11-23T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture), ce.GetProperty("time").GetDateTimeOffset());
        }
    }

    [Fact]
    public async Task A_batch_gets_one_result_per_event_in_order_and_a_bad_event_stores_nothing()
    {
        var customer = await fixture.NewCustomerAsync();
        var events = new object[]
        {
            new { type = "com.example.a", source = "/s", id = "1", data = new { n = 1 } },
            new { type = "com.example.b", source = "/s", id = "2", data = new { n = 2 } },
            new { type = "com.example.a", source = "/s", id = "1", data = new { n = 1 } },
        };
        var signed = (await Signers.SignAsync(new { scheme = "cloudevents-batch", events }))[0];
        // One more element the SDK would not produce: no id.
        var body = signed.Body[..^1] + """,{"specversion":"1.0","type":"com.example.c","source":"/s"}]""";

        var response = await WebhookRequests.SendAsync(fixture.Http, $"/v1/webhooks/{customer}/{GatewayFixture.TestSource}", signed with { Body = body });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results");
        Assert.Equal([1L, 2L, 1L], results.EnumerateArray().Take(3).Select(r => r.GetProperty("seq").GetInt64()));
        Assert.True(results[2].GetProperty("duplicate").GetBoolean());
        Assert.EndsWith("/invalid-cloudevent", results[3].GetProperty("error").GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
    }

    [Theory]
    [InlineData("application/cloudevents+json", """{"specversion":"1.0","type":"t","source":"/s"}""", "invalid-cloudevent")]
    [InlineData("application/cloudevents+json", """{"specversion":"0.3","type":"t","source":"/s","id":"1"}""", "invalid-cloudevent")]
    [InlineData("application/cloudevents+json", """{"specversion":"1.0","type":"has space","source":"/s","id":"1"}""", "invalid-type")]
    [InlineData("application/cloudevents+json", """{"specversion":"1.0","type":"t","source":"/s","id":"1","data_base64":"AAEC"}""", "unsupported-media-type")]
    [InlineData("application/cloudevents-batch+json", """{"not":"an array"}""", "invalid-batch-size")]
    public async Task An_invalid_cloudevent_is_refused_and_nothing_is_stored(string contentType, string body, string problem)
    {
        var customer = await fixture.NewCustomerAsync();
        var response = await fixture.PostWebhookAsync(customer, body, contentType: contentType);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"{(int)response.StatusCode}");
        Assert.EndsWith("/" + problem, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
    }

    [Fact]
    public async Task A_binary_cloudevent_without_its_required_headers_is_refused()
    {
        var customer = await fixture.NewCustomerAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/{customer}/{GatewayFixture.TestSource}")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-type", "com.example.x");
        var response = await fixture.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
    }

    [Fact]
    public async Task The_webhook_validation_handshake_is_answered_for_a_configured_source_only()
    {
        var customer = await fixture.NewCustomerAsync();
        var request = new HttpRequestMessage(HttpMethod.Options, $"/v1/webhooks/{customer}/{GatewayFixture.TestSource}");
        request.Headers.Add("WebHook-Request-Origin", "eventemitter.example.com");
        var response = await fixture.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("eventemitter.example.com", response.Headers.GetValues("WebHook-Allowed-Origin").Single());

        var unknown = new HttpRequestMessage(HttpMethod.Options, $"/v1/webhooks/{customer}/nope");
        unknown.Headers.Add("WebHook-Request-Origin", "eventemitter.example.com");
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.SendAsync(unknown)).StatusCode);
    }

    [Fact]
    public async Task Ce_headers_on_a_signed_source_are_ignored_so_a_replay_cannot_pose_as_a_new_event()
    {
        var customer = await fixture.NewCustomerAsync();
        await fixture.PutSourceAsync(customer, "gh", """{"scheme":"github","secrets":["s3cret"]}""");
        var signed = (await Signers.SignAsync(new { scheme = "github", secret = "s3cret", body = """{"action":"opened"}""" }))[0];
        var headers = new Dictionary<string, string>(signed.Headers)
        {
            ["X-GitHub-Event"] = "issues", ["X-GitHub-Delivery"] = "d-1",
            ["ce-specversion"] = "1.0", ["ce-id"] = "new-1", ["ce-source"] = "/x", ["ce-type"] = "attacker.chosen",
        };

        Assert.Equal(HttpStatusCode.Accepted, (await WebhookRequests.SendAsync(fixture.Http, $"/v1/webhooks/{customer}/gh", signed with { Headers = headers })).StatusCode);
        headers["ce-id"] = "new-2";
        var replay = await WebhookRequests.SendAsync(fixture.Http, $"/v1/webhooks/{customer}/gh", signed with { Headers = headers });
        Assert.True((await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());

        var e = (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("events").EnumerateArray().Single();
        Assert.Equal(("issues.opened", "d-1"), (e.Type(), e.GetProperty("key").GetString()));
        Assert.False(e.TryGetProperty("ce", out _));
    }

    [Fact]
    public async Task A_cloudevent_whose_data_is_not_valid_utf8_is_refused_not_a_server_error()
    {
        var customer = await fixture.NewCustomerAsync();
        byte[] body = [.. """{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"k":" """u8, 0xC3, 0x28, .. "\"}}"u8];
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/cloudevents+json");
        var response = await fixture.Http.PostAsync($"/v1/webhooks/{customer}/{GatewayFixture.TestSource}", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.EndsWith("/invalid-json", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
    }
}
