using Fabric.Contracts.Endpoints;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;

namespace Fabric.Gateway.Tests.Outbound;

/// <summary>The attempt log of delivered messages: kept apart from the delivery state, saved less often, never lost to a deactivation.</summary>
[Collection(OutboundCollection.Name)]
public sealed class AttemptLogTests(OutboundFixture fixture)
{
    [Fact]
    public async Task Delivered_messages_are_listed_newest_first_and_outlive_the_endpoints_activation()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(200));
        // Ordered: delivered, and so settled, in seq order (an unordered endpoint may settle the three in any order).
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path, new { ordered = true });
        for (var i = 0; i < 3; i++)
        {
            await fixture.Gateway.PostWebhookAsync(customer, $$"""{"type":"order.paid","n":{{i}}}""");
        }

        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "delivered")).GetArrayLength() == 3);

        // The last two landed inside the record's save interval (10 s): only the save at deactivation keeps them.
        var grain = fixture.Gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IEndpointGrain>(EndpointKey.Of(customer, endpoint));
        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();

        var delivered = await fixture.MessagesAsync(customer, endpoint, "delivered");
        Assert.Equal([3L, 2, 1], delivered.EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()));
        Assert.All(delivered.EnumerateArray(), m => Assert.Equal(200, Assert.Single(m.GetProperty("attempts").EnumerateArray()).GetProperty("responseStatus").GetInt32()));
    }
}
