using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

/// <summary>Operators follow one event end to end: the ingest span and the delivery span share a trace.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TracingTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Ingest_and_socket_delivery_of_one_event_are_one_trace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Fabric.Gateway",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);
        var ack = await (await fixture.PostWebhookAsync(customer, """{"type":"traced"}""")).Content.ReadFromJsonAsync<JsonElement>();
        await socket.ReceiveEventsAsync(1);

        var seq = ack.GetProperty("seq").GetInt64();
        bool Mine(Activity a) => Equals(a.GetTagItem("fabric.customer"), customer);
        var ingest = Assert.Single(spans, a => a.OperationName == "fabric.ingest" && Mine(a));
        await Eventually.True(() => spans.Any(a => a.OperationName == "fabric.deliver" && Mine(a)));
        var deliver = Assert.Single(spans, a => a.OperationName == "fabric.deliver" && Mine(a));

        Assert.Equal(ingest.TraceId, deliver.TraceId);
        Assert.Equal(seq, deliver.GetTagItem("fabric.seq"));
        Assert.Equal(ack.GetProperty("id").GetString(), deliver.GetTagItem("fabric.event_id"));
    }
}
