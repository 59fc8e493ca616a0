namespace Fabric.Hosting.Dashboard;

/// <summary>The Orleans Dashboard for operators. Bound from <c>Fabric:Dashboard</c>.</summary>
public sealed class FabricDashboardOptions
{
    public const string SectionName = "Fabric:Dashboard";

    /// <summary>
    /// Serve the dashboard (default true) and profile grain calls for it. Off, no grain call filter runs and the path
    /// answers 404.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where it is served: the gateway's HTTP port in embedded mode, the silo's health port in distributed mode. Default <c>/dashboard</c>.</summary>
    public string Path { get; set; } = "/dashboard";
}
