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
        var (endpoint, secret) = await fixture.CreateEndpointAsync(customer, path, new { topics = new[] { "order.*" }, retrySchedule = new[] { "00:00:01", "00:00:01", "00:00:01" }, headers = new Dictionary<string, string> { ["X-Tenant-Token"] = "t0ken" } });
        Assert.Equal("(set)", (await fixture.EndpointAsync(customer, endpoint)).GetProperty("headers").GetProperty("X-Tenant-Token").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid","amount":42}""")).StatusCode);
        await fixture.AdvanceUntil(() => fixture.Receiver.Got(path).Count == 4, Second);

        var got = fixture.Receiver.Got(path);
        Assert.Single(got.Select(r => r.Header("webhook-id")).Distinct());
        var last = got[^1];
        var verified = await Signers.VerifyAsync(VerifyRequest.Of(secret, last.Headers, last.Body));
        Assert.Null(verified[0]);

        // The body is the envelope, the payload spliced in as it was posted; the trace context travels with it.
        var envelope = JsonDocument.Parse(last.Body).RootElement;
        Assert.Equal(last.Header("webhook-id"), envelope.GetProperty("id").GetString());
        Assert.Equal("order.paid", envelope.GetProperty("type").GetString());
        Assert.Equal(42, envelope.GetProperty("data").GetProperty("amount").GetInt32());
        Assert.Equal(1, envelope.GetProperty("seq").GetInt64());
        Assert.StartsWith("00-", last.Header("traceparent"), StringComparison.Ordinal);
        Assert.Equal("application/json", last.Header("content-type"));
        Assert.Equal("t0ken", last.Header("x-tenant-token"));

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
        // Ordered, so the endpoint sends one at a time in seq order: an event it should not send would arrive first.
        await fixture.CreateEndpointAsync(customer, path, new { topics = new[] { "order.*" }, ordered = true });

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"user.created"}""");
        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.shipped"}""");
        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.marker"}""");
        await Eventually.True(() => fixture.Receiver.Got(path).Count == 2);
        Assert.Equal(
            ["order.shipped", "order.marker"],
            fixture.Receiver.Got(path).Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task The_default_schedule_is_obeyed_to_the_second_and_the_message_then_fails_for_good()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(500));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path);
        TimeSpan[] schedule = [TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10)];
        Assert.Equal(schedule, (await fixture.EndpointAsync(customer, endpoint)).GetProperty("retrySchedule").EnumerateArray().Select(s => TimeSpan.Parse(s.GetString()!, System.Globalization.CultureInfo.InvariantCulture)));

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid"}""");
        await Eventually.True(() => fixture.Receiver.Got(path).Count == 1);
        for (var attempt = 1; attempt <= schedule.Length; attempt++)
        {
            JsonElement pending = default;
            await Eventually.True(async () => (pending = await fixture.MessagesAsync(customer, endpoint, "pending")) is { } p && p.GetArrayLength() == 1 && p[0].GetProperty("attempts").GetArrayLength() == attempt);
            var last = pending[0].GetProperty("attempts")[attempt - 1].GetProperty("time").GetDateTimeOffset();
            var due = pending[0].GetProperty("nextAttempt").GetDateTimeOffset();
            Assert.Equal(schedule[attempt - 1], due - last);

            // Not a moment early: a second before it is due nothing is sent; at the due time the next attempt goes.
            fixture.Clock.SetUtcNow(due - Second);
            await Task.Delay(150);
            Assert.Equal(attempt, fixture.Receiver.Got(path).Count);
            fixture.Clock.SetUtcNow(due);
            await Eventually.True(() => fixture.Receiver.Got(path).Count == attempt + 1);
        }

        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "failed")).GetArrayLength() == 1);
        var failed = (await fixture.MessagesAsync(customer, endpoint, "failed"))[0];
        Assert.Equal(8, failed.GetProperty("attempts").GetArrayLength());
        Assert.Equal(0, (await fixture.MessagesAsync(customer, endpoint, "pending")).GetArrayLength());
        Assert.True((await fixture.EndpointAsync(customer, endpoint)).GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task An_attempt_that_outlasts_the_endpoints_timeout_is_a_failed_attempt_without_a_status()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, n) => n == 0 ? new Answer(200, Delay: TimeSpan.FromSeconds(10)) : new Answer(200));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path, new { timeout = "00:00:01", retrySchedule = new[] { "00:00:05" } });

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid"}""");
        JsonElement pending = default;
        await Eventually.True(async () => (pending = await fixture.MessagesAsync(customer, endpoint, "pending")).GetArrayLength() == 1 && pending[0].GetProperty("attempts").GetArrayLength() == 1);
        var attempt = pending[0].GetProperty("attempts")[0];
        Assert.Equal("timeout", attempt.GetProperty("error").GetString());
        Assert.True(!attempt.TryGetProperty("responseStatus", out var status) || status.ValueKind == JsonValueKind.Null);

        await fixture.AdvanceUntil(() => fixture.Receiver.Got(path).Count == 2, Second);
        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "delivered")).GetArrayLength() == 1);
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_says_so_on_the_customers_log_and_a_re_enable_delivers_what_waited()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(410));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path, new { topics = new[] { "order.*" } });

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid"}""");
        await Eventually.True(async () => !(await fixture.EndpointAsync(customer, endpoint)).GetProperty("enabled").GetBoolean());
        var view = await fixture.EndpointAsync(customer, endpoint);
        Assert.Contains("410", view.GetProperty("disabledReason").GetString(), StringComparison.Ordinal);

        // The operational event is the customer's own: sockets and other endpoints see it like any other.
        JsonElement disabled = default;
        await Eventually.True(async () =>
        {
            var history = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events");
            disabled = history.GetProperty("events").EnumerateArray().FirstOrDefault(e => e.GetProperty("type").GetString() == "fabric.endpoint.disabled");
            return disabled.ValueKind == JsonValueKind.Object;
        });
        Assert.Equal(endpoint, disabled.GetProperty("data").GetProperty("endpoint").GetString());
        Assert.Equal("fabric", disabled.GetProperty("source").GetString());

        // Disabled: nothing more is attempted, the message waits.
        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.shipped"}""");
        fixture.Clock.Advance(TimeSpan.FromMinutes(10));
        await Task.Delay(200);
        Assert.Single(fixture.Receiver.Got(path));

        fixture.Receiver.Answer(path, (_, _) => new Answer(200));
        var enable = await fixture.Http.PatchAsJsonAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}", new { enabled = true });
        Assert.Equal(HttpStatusCode.OK, enable.StatusCode);
        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "delivered")).GetArrayLength() == 2);
        Assert.Equal(
            ["order.paid", "order.shipped"],
            fixture.Receiver.Got(path).Skip(1).Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("type").GetString()).Order());
    }

    [Fact]
    public async Task A_429_with_Retry_After_waits_as_long_as_the_receiver_asked_instead_of_the_schedule()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, n) => n == 0 ? new Answer(429, RetryAfter: "120") : new Answer(200));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path, new { retrySchedule = new[] { "00:00:01" } });

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid"}""");
        JsonElement pending = default;
        await Eventually.True(async () => (pending = await fixture.MessagesAsync(customer, endpoint, "pending")).GetArrayLength() == 1 && pending[0].GetProperty("attempts").GetArrayLength() == 1);
        var due = pending[0].GetProperty("nextAttempt").GetDateTimeOffset();
        Assert.Equal(TimeSpan.FromSeconds(120), due - pending[0].GetProperty("attempts")[0].GetProperty("time").GetDateTimeOffset());

        fixture.Clock.SetUtcNow(due - Second);
        await Task.Delay(150);
        Assert.Single(fixture.Receiver.Got(path));
        fixture.Clock.SetUtcNow(due);
        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "delivered")).GetArrayLength() == 1);
    }

    [Fact]
    public async Task An_endpoint_failing_for_five_days_is_disabled()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(503));
        var day = TimeSpan.FromDays(1);
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path, new { retrySchedule = Enumerable.Repeat("1.00:00:00", 7).ToArray() });

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid"}""");
        for (var days = 1; days <= 5; days++)
        {
            // The clock moves only once the grain has recorded the attempt and scheduled the next one.
            var attempts = days;
            await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "pending")) is { } p && p.GetArrayLength() == 1 && p[0].GetProperty("attempts").GetArrayLength() == attempts);
            Assert.True((await fixture.EndpointAsync(customer, endpoint)).GetProperty("enabled").GetBoolean());
            fixture.Clock.Advance(day);
        }

        await Eventually.True(async () => !(await fixture.EndpointAsync(customer, endpoint)).GetProperty("enabled").GetBoolean());
        Assert.Contains("every attempt failed since", (await fixture.EndpointAsync(customer, endpoint)).GetProperty("disabledReason").GetString(), StringComparison.Ordinal);
    }
}
