using Fabric.Hosting.Cluster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Fabric.Hosting.Health;

/// <summary>
/// Healthy when Redis answers a PING within two seconds. It has its own connection (opened at the first probe), so a
/// probe measures Redis itself, not a queue behind the event log's writes.
/// </summary>
public sealed class RedisHealthCheck(IConfiguration configuration) : IHealthCheck, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(() => ConnectionMultiplexer.ConnectAsync(FabricRedis.ConnectionOptions(configuration)));

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var redis = await _connection.Value.WaitAsync(Timeout, cancellationToken);
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Without the exception: the health check service would log it at Error on every probe (one every few
            // seconds per prober), and its text can hold the connection string's host list. Redis's own client logs
            // the connection failures.
            return HealthCheckResult.Unhealthy("redis unreachable");
        }
    }

    public void Dispose()
    {
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
        {
            _connection.Value.Result.Dispose();
        }
    }
}
