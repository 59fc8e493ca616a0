using Fabric.Contracts.Registry;

namespace Fabric.Grains.Tests;

/// <summary>The registry: reads write nothing, every change is announced, and a retried removal is announced again.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RegistryGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task An_unregistered_customer_reads_as_null_and_refuses_changes()
    {
        var registry = fixture.Client.GetGrain<ICustomerRegistryGrain>(Events.NewCustomer());
        Assert.Null(await registry.GetConfig());
        Assert.Equal(RegistryOutcome.UnknownCustomer, (await registry.AddKey(new ApiKeyRecord("key_1", ["publish"], [1, 2], DateTimeOffset.UtcNow))).Outcome);
        Assert.Null(await registry.GetConfig());
    }

    [Fact]
    public async Task Every_change_is_announced_and_a_removal_of_nothing_too()
    {
        var customer = Events.NewCustomer();
        var registry = fixture.Client.GetGrain<ICustomerRegistryGrain>(customer);
        var feed = fixture.Client.GetGrain<IRegistryChangesGrain>(0);
        var start = await feed.Since(Guid.Empty, 0);

        Assert.Equal(RegistryOutcome.Created, (await registry.Put("Acme")).Outcome);
        var afterPut = await feed.Since(start.Epoch, start.Cursor);
        Assert.Contains(customer, afterPut.Customers);

        // The retry of a revocation whose first announcement failed finds nothing to remove: it must announce anyway.
        Assert.Equal(RegistryOutcome.NotFound, (await registry.RemoveKey("key_gone")).Outcome);
        var afterRetry = await feed.Since(afterPut.Epoch, afterPut.Cursor);
        Assert.False(afterRetry.Reset);
        Assert.Contains(customer, afterRetry.Customers);
    }

    [Fact]
    public async Task A_stale_or_foreign_cursor_is_told_to_reset()
    {
        var feed = fixture.Client.GetGrain<IRegistryChangesGrain>(0);
        Assert.True((await feed.Since(Guid.NewGuid(), 0)).Reset);
        var now = await feed.Since(Guid.Empty, 0);
        Assert.True((await feed.Since(now.Epoch, now.Cursor + 5)).Reset);
    }
}
