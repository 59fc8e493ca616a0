using System.Net.Http.Json;
using System.Text.Json;

namespace Fabric.Gateway.Tests.Outbound;

/// <summary>
/// Retention never silently drops a pending delivery: a lagging endpoint holds back the trim up to its bound; past
/// it the events it lost are marked failed with the reason, and delivery goes on with what the log still holds.
/// </summary>
public sealed class HoldBackTests
{
    [Fact]
    public async Task A_lagging_endpoint_keeps_its_events_in_the_log_up_to_the_bound_and_past_it_marks_the_lost_ones_failed()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Fabric:Outbound:AllowedHosts:0"] = "127.0.0.1",
            ["Fabric:Customers:RetentionMaxEvents"] = "20",
            ["Fabric:Customers:EndpointHoldMaxEvents"] = "60",
        });
        var customer = await gateway.NewCustomerAsync();
        var up = false;
        var path = receiver.Path((_, _) => new Answer(Volatile.Read(ref up) ? 200 : 503));
        var created = await gateway.Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints", new { url = receiver.Url(path), ordered = true, retrySchedule = Enumerable.Repeat("00:00:00.500", 20).ToArray() });
        var endpoint = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        // Ordered and failing: event 1 blocks the rest, so the endpoint's cursor stays at 0.
        for (var i = 1; i <= 50; i++)
        {
            (await gateway.PostWebhookAsync(customer, $$"""{"type":"t","n":{{i}}}""")).EnsureSuccessStatusCode();
        }

        // Retention alone would keep 20; the endpoint holds all 50.
        await Task.Delay(1500);
        (await gateway.PostWebhookAsync(customer, """{"type":"t","n":51}""")).EnsureSuccessStatusCode();
        Assert.Equal(1, await FirstRetainedAsync(gateway, customer));

        // Past the bound (60 behind its cursor), the oldest go and the endpoint says which it lost. One batch, so the
        // trim jumps past the endpoint's read-ahead at once (posted one by one, the trim could move in step with the
        // endpoint's reads, and each event would expire singly instead of as a range).
        var batch = new { events = Enumerable.Range(52, 49).Select(i => new { type = "t", data = new { n = i } }).ToArray() };
        (await gateway.Http.PostAsJsonAsync($"/v1/customers/{customer}/events/batch", batch)).EnsureSuccessStatusCode();

        await Eventually.True(async () => await FirstRetainedAsync(gateway, customer) > 1, TimeSpan.FromSeconds(15));
        Volatile.Write(ref up, true);
        static bool IsLostRange(JsonElement m) => m.GetProperty("reason").GetString() == "expired" && m.TryGetProperty("lastSeq", out var last) && last.ValueKind == JsonValueKind.Number;
        try
        {
            await Eventually.True(async () => (await Messages(gateway, customer, endpoint, "failed")).EnumerateArray().Any(IsLostRange), TimeSpan.FromSeconds(20));
        }
        catch (Exception ex)
        {
            var view = await gateway.Http.GetStringAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}");
            var failed = await gateway.Http.GetStringAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}/messages?status=failed");
            var pending = await gateway.Http.GetStringAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}/messages?status=pending&limit=3");
            var history = await gateway.Http.GetStringAsync($"/v1/customers/{customer}/events?limit=1");
            throw new InvalidOperationException($"no lost range.\nview {view}\nfailed {failed[..Math.Min(3000, failed.Length)]}\npending {pending[..Math.Min(3000, pending.Length)]}\nhistory {history[..Math.Min(600, history.Length)]}\nreceived {string.Join(",", receiver.Got(path).Select(r => $"{Seq(r)}:{r.Status}"))}", ex);
        }
        var lost = (await Messages(gateway, customer, endpoint, "failed")).EnumerateArray().First(IsLostRange);
        Assert.True(!lost.TryGetProperty("eventId", out var id) || id.ValueKind == JsonValueKind.Null);

        // What the log still held is delivered, in order, after the lost range; nothing is delivered twice.
        await Eventually.True(() => receiver.Got(path).Any(r => r.Status == 200 && Seq(r) == 100), TimeSpan.FromSeconds(20));
        var delivered = receiver.Got(path).Where(r => r.Status == 200).Select(Seq).ToList();
        Assert.Equal(delivered.Order(), delivered);
        Assert.Equal(delivered.Distinct(), delivered);
        var lostLast = lost.GetProperty("lastSeq").GetInt64();
        Assert.True(delivered.All(s => s < lost.GetProperty("seq").GetInt64() || s > lostLast));
        Assert.Equal(100, delivered[^1]);
    }

    private static async Task<long> FirstRetainedAsync(TestGateway gateway, string customer) =>
        (await gateway.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events?limit=1")).GetProperty("events")[0].GetProperty("seq").GetInt64();

    private static async Task<JsonElement> Messages(TestGateway gateway, string customer, string endpoint, string status) =>
        (await gateway.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}/endpoints/{endpoint}/messages?status={status}")).GetProperty("messages");

    private static long Seq(Received r) => JsonDocument.Parse(r.Body).RootElement.GetProperty("seq").GetInt64();
}
