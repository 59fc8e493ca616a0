using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Fabric.Hosting.Health;

/// <summary>
/// Unhealthy from the moment the host begins to stop: the load balancer takes the process out of rotation while it
/// drains (a gateway closes its sockets with 4200 over the drain window; a silo hands its grains over), instead of
/// sending it new work until Kestrel stops.
/// </summary>
public sealed class DrainingHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("draining: the process is stopping")
            : HealthCheckResult.Healthy("serving"));
}
