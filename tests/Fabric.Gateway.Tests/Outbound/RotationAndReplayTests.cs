using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fabric.Gateway.Tests.Webhooks;

namespace Fabric.Gateway.Tests.Outbound;

/// <summary>Secret rotation with an overlap, and sending failed messages again: one, or all since a time.</summary>
[Collection(OutboundCollection.Name)]
public sealed class RotationAndReplayTests(OutboundFixture fixture)
{
    [Fact]
    public async Task During_the_overlap_both_secrets_sign_and_each_verifies_and_after_it_only_the_new_one()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(200));
        var (endpoint, oldSecret) = await fixture.CreateEndpointAsync(customer, path);

        var rotate = await fixture.Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}/secret/rotate", new { overlap = "01:00:00" });
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var rotated = await rotate.Content.ReadFromJsonAsync<JsonElement>();
        var newSecret = rotated.GetProperty("secret").GetString()!;
        Assert.NotEqual(oldSecret, newSecret);
        Assert.Equal(2, rotated.GetProperty("activeSecrets").GetInt32());

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"a"}""");
        await Eventually.True(() => fixture.Receiver.Got(path).Count == 1);
        var during = fixture.Receiver.Got(path)[0];
        Assert.Equal(2, during.Header("webhook-signature").Split(' ').Length);
        Assert.Equal(
            new string?[] { null, null },
            await Signers.VerifyAsync(VerifyRequest.Of(oldSecret, during.Headers, during.Body), VerifyRequest.Of(newSecret, during.Headers, during.Body)));

        fixture.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"b"}""");
        await Eventually.True(() => fixture.Receiver.Got(path).Count == 2);
        var after = fixture.Receiver.Got(path)[1];
        Assert.Single(after.Header("webhook-signature").Split(' '));
        var verdicts = await Signers.VerifyAsync(VerifyRequest.Of(oldSecret, after.Headers, after.Body), VerifyRequest.Of(newSecret, after.Headers, after.Body));
        Assert.NotNull(verdicts[0]);
        Assert.Null(verdicts[1]);
    }

    [Fact]
    public async Task A_failed_message_is_retried_alone_and_every_failed_one_since_a_time_is_recovered_with_progress()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var up = false;
        var path = fixture.Receiver.Path((_, _) => new Answer(Volatile.Read(ref up) ? 200 : 500));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path, new { retrySchedule = new[] { "00:00:01" } });

        for (var i = 0; i < 5; i++)
        {
            await fixture.Gateway.PostWebhookAsync(customer, $$"""{"type":"order.paid","n":{{i}}}""");
        }

        await fixture.AdvanceUntil(() => fixture.Receiver.Got(path).Count == 10, TimeSpan.FromSeconds(1));
        JsonElement failed = default;
        await Eventually.True(async () => (failed = await fixture.MessagesAsync(customer, endpoint, "failed")).GetArrayLength() == 5);
        var since = fixture.Clock.GetUtcNow();

        Volatile.Write(ref up, true);
        var first = failed.EnumerateArray().Single(m => m.GetProperty("seq").GetInt64() == 1).GetProperty("eventId").GetString()!;
        var retry = await fixture.Http.PostAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}/messages/{first}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "delivered")).GetArrayLength() == 1);
        var delivered = (await fixture.MessagesAsync(customer, endpoint, "delivered"))[0];
        Assert.Equal(first, delivered.GetProperty("eventId").GetString());
        Assert.Equal([500, 500, 200], delivered.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("responseStatus").GetInt32()));
        Assert.Equal(4, (await fixture.MessagesAsync(customer, endpoint, "failed")).GetArrayLength());

        // Recover every failed one whose last attempt is at or after a time: here all four left.
        var recover = await fixture.Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}/recover", new { since = since - TimeSpan.FromMinutes(1) });
        Assert.Equal(HttpStatusCode.Accepted, recover.StatusCode);
        Assert.Equal(4, (await recover.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("total").GetInt32());
        JsonElement progress = default;
        await Eventually.True(async () => (progress = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}/endpoints/{endpoint}/recover")).GetProperty("status").GetString() == "done");
        Assert.Equal((4, 4, 4, 0), (progress.GetProperty("total").GetInt32(), progress.GetProperty("done").GetInt32(), progress.GetProperty("delivered").GetInt32(), progress.GetProperty("failed").GetInt32()));
        Assert.Equal(0, (await fixture.MessagesAsync(customer, endpoint, "failed")).GetArrayLength());
        Assert.Equal(5, (await fixture.MessagesAsync(customer, endpoint, "delivered")).GetArrayLength());

        // A recovery since a later time picks nothing; an unknown message is a 404.
        var none = await fixture.Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}/recover", new { since = fixture.Clock.GetUtcNow() + TimeSpan.FromDays(1) });
        Assert.Equal(0, (await none.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.PostAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}/messages/evt_nope/retry", null)).StatusCode);
    }
}
