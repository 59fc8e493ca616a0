using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fabric.Tests;

namespace Fabric.Gateway.Tests;

/// <summary>
/// Single events that arrive while a customer's append calls are busy go to its grain together
/// (Fabric:Ingest:CallsInFlight): each request still gets the answer for its own event, once.
/// </summary>
public sealed class CoalescingTests
{
    [Fact]
    public async Task Concurrent_webhooks_of_one_customer_share_calls_and_each_gets_its_own_event()
    {
        await using var gateway = await TestGateway.StartAsync(new() { ["Fabric:Ingest:CallsInFlight"] = "1" });
        var customer = await gateway.NewCustomerAsync();
        long largest = 0;
        using var listener = Counters.Listen("fabric.gateway.coalesced", value => InterlockedMax(ref largest, value));

        // Bursts of 200 until one call carried several events (whether requests overlap depends on the machine's load).
        var answers = new List<(int N, long Seq)>();
        for (var burst = 0; burst < 5 && Interlocked.Read(ref largest) <= 1; burst++)
        {
            answers.AddRange(await Task.WhenAll(Enumerable.Range(answers.Count, 200).Select(async n =>
            {
                using var response = await gateway.PostWebhookAsync(customer, $$"""{"type":"order.paid","n":{{n}}}""");
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                return (N: n, Seq: (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("seq").GetInt64());
            })));
        }

        Assert.True(Interlocked.Read(ref largest) > 1, "no call carried more than one event");
        Assert.Equal(Enumerable.Range(1, answers.Count).Select(i => (long)i), answers.Select(a => a.Seq).Order());
        var history = await gateway.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events?limit=1000");
        var stored = history.GetProperty("events").EnumerateArray().ToDictionary(e => e.GetProperty("seq").GetInt64(), e => e.GetProperty("data").GetProperty("n").GetInt32());
        Assert.All(answers, a => Assert.Equal(a.N, stored[a.Seq]));
    }

    [Fact]
    public async Task Concurrent_deliveries_with_one_idempotency_key_keep_one_event()
    {
        await using var gateway = await TestGateway.StartAsync(new() { ["Fabric:Ingest:CallsInFlight"] = "1" });
        var customer = await gateway.NewCustomerAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async n =>
        {
            using var response = await GatewayFixture.PostWebhookAsync(gateway.Http, customer, $$"""{"type":"order.paid","n":{{n % 4}}}""", key: "delivery-" + (n % 4));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (Key: n % 4, Id: body.GetProperty("id").GetString(), Duplicate: body.GetProperty("duplicate").GetBoolean());
        }));

        Assert.All(answers.GroupBy(a => a.Key), g =>
        {
            Assert.Single(g.Select(a => a.Id).Distinct());
            Assert.Single(g, a => !a.Duplicate);
        });
        var history = await gateway.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events");
        Assert.Equal(4, history.GetProperty("lastSeq").GetInt64());
    }

    [Fact]
    public async Task Every_coalesced_event_has_its_own_append_span_in_its_own_trace()
    {
        await using var gateway = await TestGateway.StartAsync(new() { ["Fabric:Ingest:CallsInFlight"] = "1" });
        var customer = await gateway.NewCustomerAsync();
        var spans = new ConcurrentQueue<Activity>();
        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Fabric.Gateway" or "Fabric.Grains",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(tracing);
        long largest = 0;
        using var meter = Counters.Listen("fabric.gateway.coalesced", value => InterlockedMax(ref largest, value));

        // Bursts of 100 until one call carried several events: whether requests overlap at the coalescer depends on the
        // machine's load, and a burst that never overlapped would prove nothing.
        var posted = 0;
        for (var burst = 0; burst < 10 && Interlocked.Read(ref largest) <= 1; burst++)
        {
            await Task.WhenAll(Enumerable.Range(posted, 100).Select(async n =>
            {
                using var response = await gateway.PostWebhookAsync(customer, $$"""{"type":"order.paid","n":{{n}}}""");
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }));
            posted += 100;
        }

        Assert.True(Interlocked.Read(ref largest) > 1, "no call carried more than one event");
        var ingests = spans.Where(a => a.OperationName == "fabric.ingest" && Equals(a.GetTagItem("fabric.customer"), customer)).ToList();
        Assert.Equal(posted, ingests.Count);
        var missing = ingests;
        for (var attempt = 0; attempt < 50 && missing.Count > 0; attempt++)
        {
            await Task.Delay(100);
            missing = [.. ingests.Where(i => !spans.Any(a => a.OperationName == "fabric.grain.append" && a.TraceId == i.TraceId))];
        }

        Assert.True(missing.Count == 0, $"{missing.Count} of {posted} events have no append span in their trace; append spans: {spans.Count(a => a.OperationName == "fabric.grain.append")}");
    }

    private static void InterlockedMax(ref long target, long value)
    {
        for (var seen = Interlocked.Read(ref target); value > seen; seen = Interlocked.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }
}
