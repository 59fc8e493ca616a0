using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fabric.Gateway.Tests.Webhooks;

namespace Fabric.Gateway.Tests.Outbound;

/// <summary>Outbound delivery against a real receiver: signatures, retries, timeouts, 410, Retry-After, the schedule.</summary>
[Collection(OutboundCollection.Name)]
public sealed class DeliveryAttemptTests(OutboundFixture fixture)
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Three_500s_then_a_200_deliver_once_more_signed_so_the_standardwebhooks_library_verifies_it_with_four_attempts_logged()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, n) => n < 3 ? new Answer(500, Body: "not yet") : new Answer(200));
        var (endpoint, secret) = await fixture.CreateEndpointAsync(customer, path, new { topics = new[] { "order.*" }, retrySchedule = new[] { "00:00:01", "00:00:01", "00:00:01" } });

        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid","amount":42}""")).StatusCode);
        await fixture.AdvanceUntil(() => fixture.Receiver.Got(path).Count == 4, Second);

        var got = fixture.Receiver.Got(path);
        Assert.Single(got.Select(r => r.Header("webhook-id")).Distinct());
        var last = got[^1];
        var verified = await Signers.VerifyAsync(new VerifyRequest(secret, new()
        {
            ["webhook-id"] = last.Header("webhook-id"),
            ["webhook-timestamp"] = last.Header("webhook-timestamp"),
            ["webhook-signature"] = last.Header("webhook-signature"),
        }, last.Body));
        Assert.Null(verified[0]);

        // The body is the envelope, the payload spliced in as it was posted; the trace context travels with it.
        var envelope = JsonDocument.Parse(last.Body).RootElement;
        Assert.Equal(last.Header("webhook-id"), envelope.GetProperty("id").GetString());
        Assert.Equal("order.paid", envelope.GetProperty("type").GetString());
        Assert.Equal(42, envelope.GetProperty("data").GetProperty("amount").GetInt32());
        Assert.Equal(1, envelope.GetProperty("seq").GetInt64());
        Assert.StartsWith("00-", last.Header("traceparent"), StringComparison.Ordinal);
        Assert.Equal("application/json", last.Header("content-type"));

        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "delivered")).GetArrayLength() == 1);
        var message = (await fixture.MessagesAsync(customer, endpoint, "delivered"))[0];
        Assert.Equal(last.Header("webhook-id"), message.GetProperty("eventId").GetString());
        Assert.Equal([500, 500, 500, 200], message.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("responseStatus").GetInt32()));
        Assert.Equal("not yet", message.GetProperty("attempts")[0].GetProperty("response").GetString());
        Assert.Equal(0, (await fixture.MessagesAsync(customer, endpoint, "pending")).GetArrayLength());
    }

    [Fact]
    public async Task Events_outside_the_endpoints_topics_are_not_sent()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(204));
        await fixture.CreateEndpointAsync(customer, path, new { topics = new[] { "order.*" } });

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"user.created"}""");
        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.shipped"}""");
        await Eventually.True(() => fixture.Receiver.Got(path).Count == 1);
        await Task.Delay(200);
        var only = Assert.Single(fixture.Receiver.Got(path));
        Assert.Equal("order.shipped", JsonDocument.Parse(only.Body).RootElement.GetProperty("type").GetString());
    }
}
