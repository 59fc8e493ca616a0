using System.ComponentModel.DataAnnotations;

namespace Fabric.Grains.Registry;

/// <summary>The registry's change feed. Bound from <c>Fabric:Registry</c>.</summary>
public sealed class RegistryOptions
{
    public const string SectionName = "Fabric:Registry";

    /// <summary>
    /// Changes the feed remembers. A gateway whose cursor is older than that drops its whole cache instead. Default
    /// 10,000 (at one poll a second, more changes than that per second only cost cache misses).
    /// </summary>
    [Range(16, 1_000_000)]
    public int ChangeFeedWindow { get; set; } = 10_000;
}
