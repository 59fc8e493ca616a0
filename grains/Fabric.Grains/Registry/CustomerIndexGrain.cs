using Fabric.Contracts.Registry;

namespace Fabric.Grains.Registry;

/// <summary>
/// The list of registered customers, one persisted sorted set. Written only when a customer is first registered
/// (the whole set per write: fine for the thousands of customers an admin API lists, not for millions).
/// </summary>
internal sealed class CustomerIndexGrain([PersistentState("customers")] IPersistentState<CustomerIndex> state) : Grain, ICustomerIndexGrain
{
    public async Task Add(string customer)
    {
        if (state.State.Ids.Add(customer))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> List(string? after, int limit)
    {
        IReadOnlyList<string> page = [.. state.State.Ids.Where(id => after is null || string.CompareOrdinal(id, after) > 0).Take(limit)];
        return Task.FromResult(page);
    }
}

/// <summary>The index's persisted state.</summary>
[GenerateSerializer, Alias("fabric.CustomerIndex")]
internal sealed class CustomerIndex
{
    [Id(0)] public SortedSet<string> Ids { get; set; } = new(StringComparer.Ordinal);
}
