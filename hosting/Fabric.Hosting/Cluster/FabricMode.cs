using Microsoft.Extensions.Configuration;

namespace Fabric.Hosting.Cluster;

/// <summary>
/// Which shape a process runs in. Embedded (the default): one process holds a gateway and a silo, with everything in
/// memory. Distributed (<c>Fabric:Mode=Distributed</c>): silos and gateways are separate processes that find each other
/// through Redis and keep there everything that must outlive a process.
/// </summary>
public static class FabricMode
{
    public const string Key = "Fabric:Mode";

    /// <summary>Whether configuration selects distributed mode (<c>Fabric:Mode</c> = <c>Distributed</c>; default Embedded).</summary>
    public static bool IsDistributed(IConfiguration configuration) =>
        string.Equals(configuration?[Key], "Distributed", StringComparison.OrdinalIgnoreCase);
}
