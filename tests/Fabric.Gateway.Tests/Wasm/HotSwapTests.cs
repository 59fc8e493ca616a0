using System.Net;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests.Wasm;

/// <summary>Replacing a module under load: every event is handled by the old module or the new one, whole, and once the new one is in, only by it.</summary>
[Collection(GatewayCollection.Name)]
public sealed class HotSwapTests(GatewayFixture fixture)
{
    // 99 batches under load and one after the swap: 10,000 events, which is also the default retention bound (RetentionMaxEvents).
    private const int Batches = 99;
    private const int PerBatch = 100;

    [Fact]
    public async Task Ten_thousand_events_while_the_module_is_replaced_are_each_handled_entirely_by_the_old_or_the_new()
    {
        var customer = await fixture.NewCustomerAsync();
        var path = TransformKit.SourcePath(customer, "api");
        await fixture.Http.AttachAsync(path, Modules.Returning("""{"type":"swap.a","data":{"by":"a"}}"""));
        var newModule = Modules.Returning("""{"type":"swap.b","data":{"by":"b"}}""");
        var body = JsonSerializer.Serialize(new { events = Enumerable.Range(0, PerBatch).Select(i => new { type = "t", data = new { i } }) });

        var sent = 0;
        var acknowledged = 0;
        Task? swap = null;
        async Task Post()
        {
            while (Interlocked.Increment(ref sent) <= Batches)
            {
                var response = await fixture.Http.PostAsync($"/v1/customers/{customer}/events/batch", new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                if (Interlocked.Increment(ref acknowledged) == Batches / 3)
                {
                    // A third of the events are in, under the old module: the new one compiles and swaps in while the
                    // rest keep coming, off this loop.
                    swap = fixture.Http.AttachAsync(path, newModule);
                }
            }
        }

        await Task.WhenAll(Post(), Post(), Post());
        Assert.NotNull(swap);
        await swap;
        // And once the swap has answered, only the new module runs.
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Http.PostAsync($"/v1/customers/{customer}/events/batch", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);

        var events = await fixture.Http.HistoryAsync(customer);
        Assert.Equal((Batches + 1) * PerBatch, events.Count);
        var marks = events.Select(e => (Type: e.Type(), By: e.GetProperty("data").GetProperty("by").GetString())).ToList();
        Assert.All(marks, m => Assert.Equal(m.Type, "swap." + m.By));
        var firstNew = marks.FindIndex(m => m.By == "b");
        Assert.True(firstNew >= Batches / 3 * PerBatch, "the old module handled the first third");
        Assert.True(marks.Skip(firstNew).All(m => m.By == "b"), "after the swap, only the new module");
        Assert.Equal("b", marks[^1].By);
    }
}
