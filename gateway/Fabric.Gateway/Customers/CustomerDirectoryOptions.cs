using System.ComponentModel.DataAnnotations;

namespace Fabric.Gateway.Customers;

/// <summary>How a gateway caches customers' configuration. Bound from <c>Fabric:Registry</c>.</summary>
public sealed class CustomerDirectoryOptions
{
    public const string SectionName = "Fabric:Registry";

    /// <summary>
    /// How often the gateway reads the registry's change feed and drops changed customers from its cache. Default
    /// 1 second: a revoked key or removed secret stops working on every gateway within about that (the contract is 2 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest a cached configuration is used without asking the registry again, whatever the change feed says.
    /// Default 5 minutes: a safety net should a change announcement be lost.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most customers cached per gateway (unknown ids included); beyond it the cache starts over. Default 100,000.</summary>
    [Range(16, 10_000_000)]
    public int MaxCustomers { get; set; } = 100_000;
}
