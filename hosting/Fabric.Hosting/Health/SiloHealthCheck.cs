using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace Fabric.Hosting.Health;

/// <summary>Healthy while this silo is an active member of the cluster (joined, not shutting down or declared dead).</summary>
public sealed class SiloHealthCheck(ISiloStatusOracle oracle) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(oracle.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy($"active, {oracle.GetApproximateSiloStatuses(onlyActive: true).Count} active silo(s)")
            : HealthCheckResult.Unhealthy($"silo is {oracle.CurrentStatus}"));
}
