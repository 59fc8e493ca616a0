using System.Collections.Concurrent;
using Fabric.Contracts;

namespace Fabric.Gateway.Customers;

/// <summary>
/// Customer grain references, reused. Orleans 10's <c>GetGrain&lt;T&gt;(string)</c> reads custom attributes by
/// reflection on every call, which is on every request's path. A reference is immutable and
/// safe to share, so the gateway keeps the hot ones; the cache is bounded by starting over when it is full.
/// </summary>
internal sealed class CustomerGrains(IGrainFactory grains)
{
    private const int MaxCached = 16_384;
    private readonly ConcurrentDictionary<string, ICustomerGrain> _references = new(StringComparer.Ordinal);

    /// <summary>The factory itself, for what is not a customer grain (observer references).</summary>
    public IGrainFactory Factory => grains;

    public ICustomerGrain Get(string customer)
    {
        if (_references.TryGetValue(customer, out var reference))
        {
            return reference;
        }

        if (_references.Count >= MaxCached)
        {
            _references.Clear();
        }

        return _references.GetOrAdd(customer, grains.GetGrain<ICustomerGrain>(customer));
    }
}
