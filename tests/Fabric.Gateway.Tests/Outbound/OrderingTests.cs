using System.Text.Json;

namespace Fabric.Gateway.Tests.Outbound;

/// <summary>Ordered endpoints get strict seq order through failures; unordered ones get everything, concurrently.</summary>
[Collection(OutboundCollection.Name)]
public sealed class OrderingTests(OutboundFixture fixture)
{
    private const int Events = 200;

    [Fact]
    public async Task An_ordered_endpoint_gets_events_1_to_200_in_order_without_a_gap_through_random_failures()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var random = new Random(7);
        var path = fixture.Receiver.Path((_, _) => new Answer(Next(random) < 0.3 ? 500 : 200));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path, new { ordered = true, retrySchedule = Enumerable.Repeat("00:00:01", 10).ToArray() });

        await PostAsync(customer);
        await fixture.AdvanceUntil(() => Delivered(path).Count == Events, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(90));

        // Every success in seq order, each once; a failed attempt is only ever followed by the same event again.
        Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), Delivered(path));
        var sent = fixture.Receiver.Got(path).Select(Seq).ToList();
        for (var i = 1; i < sent.Count; i++)
        {
            Assert.True(sent[i] == sent[i - 1] || sent[i] == sent[i - 1] + 1, $"attempt {i} sent seq {sent[i]} after {sent[i - 1]}");
        }

        // The receiver sees the last event before the grain has its answer: the cursor follows a moment later.
        await Eventually.True(async () => (await fixture.EndpointAsync(customer, endpoint)).GetProperty("cursor").GetInt64() == Events);
    }

    [Fact]
    public async Task An_unordered_endpoint_gets_every_event_through_random_failures()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var random = new Random(11);
        var path = fixture.Receiver.Path((_, _) => new Answer(Next(random) < 0.3 ? 500 : 200));
        await fixture.CreateEndpointAsync(customer, path, new { maxConcurrency = 8, retrySchedule = Enumerable.Repeat("00:00:01", 10).ToArray() });

        await PostAsync(customer);
        await fixture.AdvanceUntil(() => Delivered(path).Distinct().Count() == Events, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(90));
        Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), Delivered(path).Distinct().Order());
    }

    private async Task PostAsync(string customer)
    {
        for (var i = 1; i <= Events; i++)
        {
            var response = await fixture.Gateway.PostWebhookAsync(customer, $$"""{"type":"order.paid","n":{{i}}}""");
            response.EnsureSuccessStatusCode();
        }
    }

    private static double Next(Random random)
    {
        lock (random)
        {
            return random.NextDouble();
        }
    }

    private List<long> Delivered(string path) => [.. fixture.Receiver.Got(path).Where(r => r.Status is >= 200 and < 300).Select(Seq)];

    private static long Seq(Received r) => JsonDocument.Parse(r.Body).RootElement.GetProperty("seq").GetInt64();
}
