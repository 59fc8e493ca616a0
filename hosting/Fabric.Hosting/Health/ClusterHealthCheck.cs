using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fabric.Hosting.Health;

/// <summary>Healthy when the cluster answers a management call: the gateway can then route to grains.</summary>
public sealed class ClusterHealthCheck(IClusterClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // WaitAsync bounds how long a probe may hang on an unreachable cluster.
            var call = client.GetGrain<IManagementGrain>(0).GetHosts(true, cancellationToken);
            var hosts = await call.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return hosts.Count > 0 ? HealthCheckResult.Healthy($"{hosts.Count} active silo(s)") : HealthCheckResult.Unhealthy("no active silo");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Without the exception: the health check service would log it at Error on every probe; the Orleans
            // client logs its connection failures already.
            return HealthCheckResult.Unhealthy($"cluster unreachable ({ex.GetType().Name})");
        }
    }
}
