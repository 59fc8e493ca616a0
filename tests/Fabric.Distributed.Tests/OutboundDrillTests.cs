using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fabric.Gateway.Tests.Outbound;
using Xunit.Abstractions;

namespace Fabric.Distributed.Tests;

/// <summary>Outbound delivery in distributed mode: a pending retry survives the kill of the silo that held it.</summary>
public sealed class OutboundDrillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_delivery_waiting_for_its_retry_still_happens_once_after_each_silo_is_killed_in_turn()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var cluster = await LocalCluster.UpAsync(new() { ["Fabric__Outbound__AllowedHosts__0"] = "127.0.0.1" });
        var customer = "out-" + Guid.NewGuid().ToString("N")[..8];
        await cluster.RegisterAsync([customer], "test");
        var path = receiver.Path((_, n) => new Answer(n == 0 ? 500 : 200));
        using var http = LocalCluster.AdminClient();

        // Long enough a wait that both kills (and the silos' restarts) fall inside it.
        var created = await http.PostAsJsonAsync(new Uri(cluster.Gateway1, $"/v1/admin/customers/{customer}/endpoints"), new { url = receiver.Url(path), retrySchedule = new[] { "00:01:30" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var endpoint = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        using var body = new StringContent("""{"type":"order.paid","amount":7}""", System.Text.Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync(new Uri(cluster.Gateway1, $"/v1/webhooks/{customer}/test"), body)).StatusCode);
        await Eventually.True(() => receiver.Got(path).Count == 1, TimeSpan.FromSeconds(30));

        // Whichever silo holds the endpoint grain is killed mid-backoff: one after the other, each brought back.
        var failedAt = DateTimeOffset.UtcNow;
        await cluster.KillAsync("silo1");
        await cluster.StartAsync("silo1");
        await cluster.KillAsync("silo2");
        await cluster.StartAsync("silo2");
        Assert.True(receiver.Got(path).Count == 1, "the retry went before its time");

        await Eventually.True(() => receiver.Got(path).Count >= 2, TimeSpan.FromMinutes(4));
        await Task.Delay(TimeSpan.FromSeconds(3));
        var got = receiver.Got(path);
        Assert.Equal(2, got.Count);
        Assert.Equal(got[0].Header("webhook-id"), got[1].Header("webhook-id"));
        output.WriteLine($"retry delivered {(got[1].At - failedAt).TotalSeconds:F1} s after the failed attempt (schedule: 90 s)");

        await Eventually.True(async () =>
        {
            var messages = await http.GetFromJsonAsync<JsonElement>(new Uri(cluster.Gateway2, $"/v1/admin/customers/{customer}/endpoints/{endpoint}/messages?status=delivered"));
            return messages.GetProperty("messages").GetArrayLength() == 1;
        }, TimeSpan.FromSeconds(30));
    }
}
