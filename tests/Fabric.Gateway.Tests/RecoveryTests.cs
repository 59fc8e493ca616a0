using Fabric.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;

namespace Fabric.Gateway.Tests;

/// <summary>What a silo loss does to the push path: the grain comes back without observers and must be found again.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RecoveryTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Events_appended_after_the_grain_lost_its_registrations_still_reach_the_socket_in_order()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);
        await fixture.PostWebhookAsync(customer, """{"type":"before"}""");
        Assert.Equal(1, Assert.Single(await socket.ReceiveEventsAsync(1)).Seq());

        // A reactivated grain (as after a silo loss) has no observers: these two are pushed to nobody.
        var grain = fixture.Services.GetRequiredService<IGrainFactory>().GetGrain<ICustomerGrain>(customer);
        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await fixture.PostWebhookAsync(customer, """{"type":"unpushed.1"}""");
        await fixture.PostWebhookAsync(customer, """{"type":"unpushed.2"}""");

        // The gateway's renewal re-registers, learns the grain's last seq and fills the gap from history.
        var events = await socket.ReceiveEventsAsync(2);
        Assert.Equal([2L, 3], events.Select(e => e.Seq()));
        await fixture.PostWebhookAsync(customer, """{"type":"after"}""");
        Assert.Equal(4, Assert.Single(await socket.ReceiveEventsAsync(1)).Seq());
    }
}
