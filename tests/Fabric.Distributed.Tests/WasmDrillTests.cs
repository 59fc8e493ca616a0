using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fabric.Gateway.Tests.Outbound;
using Fabric.Gateway.Tests.Wasm;

namespace Fabric.Distributed.Tests;

/// <summary>Modules are kept with the customer's configuration in Redis: after both silos are killed, the reactivated grains run them.</summary>
public sealed class WasmDrillTests
{
    [Fact]
    public async Task Ingest_and_outbound_modules_survive_the_kill_of_every_silo_and_run_in_the_reactivated_grains()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var cluster = await LocalCluster.UpAsync(new() { ["Fabric__Outbound__AllowedHosts__0"] = "127.0.0.1" });
        var customer = "wasm-" + Guid.NewGuid().ToString("N")[..8];
        await cluster.RegisterAsync([customer], "test");
        using var http = LocalCluster.AdminClient();
        var path = receiver.Path((_, _) => new Answer(200));
        var created = await http.PostAsJsonAsync(new Uri(cluster.Gateway1, $"/v1/admin/customers/{customer}/endpoints"), new { url = receiver.Url(path) });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var endpoint = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var ingest = await http.AttachAsync(new Uri(cluster.Gateway1, TransformKit.SourcePath(customer)).ToString(), Modules.Returning("""{"type":"normalised","data":{"by":"ingest"}}"""));
        await http.AttachAsync(new Uri(cluster.Gateway1, TransformKit.EndpointPath(customer, endpoint)).ToString(), Modules.Returning("""{"data":{"by":"outbound"}}"""));

        await PostAsync(http, cluster.Gateway1, customer);
        await Eventually.True(() => receiver.Got(path).Count == 1, TimeSpan.FromSeconds(30));

        await cluster.KillAsync("silo1");
        await cluster.StartAsync("silo1");
        await cluster.KillAsync("silo2");
        await cluster.StartAsync("silo2");

        // At least once, by event id: the kill may come before the endpoint has saved (debounced by Outbound:SaveInterval)
        // that the first one settled, and then its new activation sends it again. Counting requests would race that
        // resend (1 then 3, never 2).
        await PostAsync(http, cluster.Gateway2, customer);
        await Eventually.True(
            () => receiver.Got(path).Select(r => r.Header("webhook-id")).Distinct().Count() == 2,
            TimeSpan.FromSeconds(60),
            () => "Received: " + string.Join(", ", receiver.Got(path).Select(r => $"{r.Header("webhook-id")} at {r.At:HH:mm:ss.fff}")));
        var history = await http.GetFromJsonAsync<JsonElement>(new Uri(cluster.Gateway2, $"/v1/customers/{customer}/events"));
        Assert.All(history.GetProperty("events").EnumerateArray(), e => Assert.Equal("normalised", e.GetProperty("type").GetString()));
        Assert.Equal(2, history.GetProperty("events").GetArrayLength());
        Assert.All(receiver.Got(path), r => Assert.Equal("""{"by":"outbound"}""", JsonDocument.Parse(r.Body).RootElement.GetProperty("data").GetRawText()));

        // The same module (by hash), loaded by a new activation: its counters start again.
        var after = await http.GetFromJsonAsync<JsonElement>(new Uri(cluster.Gateway2, TransformKit.SourcePath(customer)));
        Assert.Equal(ingest.GetProperty("hash").GetString(), after.GetProperty("hash").GetString());
        Assert.Equal(1, after.GetProperty("counters").GetProperty("calls").GetInt64());
    }

    /// <summary>Posts until the cluster takes it (it is rejoining after the kills): a 503 stores nothing, so a retry is safe.</summary>
    private static async Task PostAsync(HttpClient http, Uri gateway, string customer)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var body = new StringContent("""{"type":"order.paid","amount":7}""", System.Text.Encoding.UTF8, "application/json");
            var response = await http.PostAsync(new Uri(gateway, $"/v1/webhooks/{customer}/test"), body);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not accepted: {(int)response.StatusCode}");
            await Task.Delay(500);
        }
    }
}
