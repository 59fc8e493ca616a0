using System.ComponentModel.DataAnnotations;

namespace Fabric.Hosting.Cluster;

/// <summary>Where distributed mode keeps its state. Bound from <c>Fabric:Redis</c>.</summary>
public sealed class RedisOptions
{
    public const string SectionName = "Fabric:Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string, e.g. <c>localhost:6379</c> or
    /// <c>redis:6379,password=…</c>. Required in distributed mode.
    /// </summary>
    [Required]
    public string ConnectionString { get; set; } = "";
}
