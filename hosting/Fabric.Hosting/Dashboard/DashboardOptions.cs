namespace Fabric.Hosting.Dashboard;

/// <summary>The Orleans Dashboard for operators. Bound from <c>Fabric:Dashboard</c>.</summary>
public sealed class FabricDashboardOptions
{
    public const string SectionName = "Fabric:Dashboard";

    /// <summary>
    /// Serve the dashboard and profile grain calls for it. Default: on in embedded mode, off in distributed mode, where
    /// it is opted into on the silos an operator watches (compose does for its silos): a silo that runs it profiles every
    /// grain call and answers the collector's calls. Off, no grain call filter runs and the path answers 404.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary><see cref="Enabled"/> as it applies: what is set, else on only in embedded mode.</summary>
    public bool IsEnabled(bool distributed) => Enabled ?? !distributed;

    /// <summary>Where it is served: the gateway's HTTP port in embedded mode, the silo's health port in distributed mode. Default <c>/dashboard</c>.</summary>
    public string Path { get; set; } = "/dashboard";
}
