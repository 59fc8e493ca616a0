using Fabric.Contracts;
using Fabric.Grains.Log;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Streams;
using Orleans.Streams.Core;
using Orleans.TestingHost;

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

    [Fact]
    public void Events_are_published_only_while_a_grain_type_subscribes_to_the_customers_stream()
    {
        // This cluster holds RecordingConsumerGrain, bound to the customers' namespace and to nothing else.
        var consumers = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<Customers.StreamConsumers>();
        Assert.True(consumers.Any);
        Assert.True(consumers.Subscribed(FabricStreams.CustomerEvents));
        Assert.False(consumers.Subscribed("nobody.listens"));
    }

    [Fact]
    public async Task Stream_cache_keeps_events_for_StreamCacheMaxAge_not_the_half_hour_Orleans_defaults_to()
    {
        await using var defaults = await ClusterFixture.StartWithLogAsync(new InMemoryEventLog(), []);
        Assert.Equal(TimeSpan.FromMinutes(1), Eviction(defaults).DataMaxAgeInCache);

        await using var set = await ClusterFixture.StartWithLogAsync(new InMemoryEventLog(), new() { ["Fabric:Customers:StreamCacheMaxAge"] = "00:00:20" });
        Assert.Equal(TimeSpan.FromSeconds(20), Eviction(set).DataMaxAgeInCache);
        Assert.Equal(TimeSpan.FromSeconds(20), Eviction(set).DataMinTimeInCache);

        // What the memory stream provider reads when it builds its cache: its options by its name.
        static StreamCacheEvictionOptions Eviction(InProcessTestCluster cluster) =>
            cluster.Silos[0].ServiceProvider.GetRequiredService<IOptionsMonitor<StreamCacheEvictionOptions>>().Get(FabricStreams.ProviderName);
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
