using Fabric.Contracts;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace Fabric.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class StreamTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Grain_with_an_implicit_subscription_receives_each_customers_events_in_order()
    {
        var customer = Events.NewCustomer();
        var grain = fixture.Client.GetGrain<ICustomerGrain>(customer);
        for (var i = 0; i < 3; i++)
        {
            await grain.Append(Events.Make(type: $"stream.{i}"));
        }

        var consumer = fixture.Client.GetGrain<IRecordingConsumerGrain>(customer);
        await Eventually.True(async () => (await consumer.Received()).Count == 3, TimeSpan.FromSeconds(15));
        Assert.Equal(["stream.0", "stream.1", "stream.2"], await consumer.Received());
    }
}

public interface IRecordingConsumerGrain : IGrainWithStringKey
{
    Task<List<string>> Received();
}

/// <summary>A server-side consumer as a projection or outbound delivery would be: bound by namespace, no setup.</summary>
[ImplicitStreamSubscription(FabricStreams.CustomerEvents)]
public sealed class RecordingConsumerGrain : Grain, IRecordingConsumerGrain, IStreamSubscriptionObserver, IAsyncObserver<EventEnvelope>
{
    private readonly List<string> _received = [];

    public Task<List<string>> Received() => Task.FromResult(_received.ToList());

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<EventEnvelope>().ResumeAsync(this);

    public Task OnNextAsync(EventEnvelope item, StreamSequenceToken? token = null)
    {
        _received.Add(item.Type);
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
