namespace Fabric.Contracts.Registry;

/// <summary>Every registered customer id, in order, for the admin API's list (key 0).</summary>
[Alias("fabric.ICustomerIndexGrain")]
public interface ICustomerIndexGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a customer id (no write when it is already there).</summary>
    [Alias("Add")]
    Task Add(string customer);

    /// <summary>Up to <paramref name="limit"/> ids after <paramref name="after"/> in ordinal order.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> List(string? after, int limit);
}
