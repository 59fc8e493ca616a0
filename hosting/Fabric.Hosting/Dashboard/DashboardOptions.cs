namespace Fabric.Hosting.Dashboard;

/// <summary>The Orleans Dashboard for operators. Bound from <c>Fabric:Dashboard</c>.</summary>
public sealed class FabricDashboardOptions
{
    public const string SectionName = "Fabric:Dashboard";

    /// <summary>
    /// Serve the dashboard and profile grain calls for it. Default: off, in both modes; an operator turns it on for the
    /// process they watch (the quick start's Development settings do, compose does for its silos). A process that runs
    /// it profiles every grain call — an append, a push, each outbound attempt — and answers the collector's calls, a
    /// cost on every call. Off, no grain call filter runs and the path
    /// answers 404.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>Where it is served: the gateway's HTTP port in embedded mode, the silo's health port in distributed mode. Default <c>/dashboard</c>.</summary>
    public string Path { get; set; } = "/dashboard";
}
