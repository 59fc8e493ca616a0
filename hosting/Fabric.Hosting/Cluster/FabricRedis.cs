using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Fabric.Hosting.Cluster;

/// <summary>
/// Distributed mode's Redis, as every process uses it: the connection settings, the cluster's identity, a client's
/// membership (a gateway finds the silos there) and the Data Protection key ring. The silos' own use (state, reminders,
/// the event log) is in <c>Fabric.Grains.Redis</c>.
/// </summary>
public static class FabricRedis
{
    /// <summary>Client side (a gateway): find the silos through Redis membership.</summary>
    public static IClientBuilder UseFabricRedis(this IClientBuilder client, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(client);
        var redis = ConnectionOptions(configuration);
        return client.Configure<ClusterOptions>(o => ConfigureCluster(o, configuration))
            .UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
    }

    /// <summary>The cluster's identity; silos and gateways must agree on both (<c>Fabric:Cluster:ServiceId</c> / <c>ClusterId</c>).</summary>
    public static void ConfigureCluster(ClusterOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ServiceId = configuration["Fabric:Cluster:ServiceId"] ?? "fabric";
        options.ClusterId = configuration["Fabric:Cluster:ClusterId"] ?? "fabric";
    }

    /// <summary>
    /// ASP.NET Core Data Protection, which encrypts customers' secrets at rest: the gateway encrypts (sources, signing
    /// keys, endpoint secrets) and the gateway or a silo decrypts (checking signatures, signing outbound webhooks).
    /// Distributed mode keeps the key ring in Redis, so every gateway and silo reads what any of them wrote; embedded
    /// mode keeps it in memory, as it keeps everything.
    /// </summary>
    public static IServiceCollection AddFabricDataProtection(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        var protection = services.AddDataProtection().SetApplicationName("fabric");
        if (FabricMode.IsDistributed(configuration))
        {
            var redis = ConnectionOptions(configuration);
            var connection = new Lazy<IConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(redis));
            protection.PersistKeysToStackExchangeRedis(() => connection.Value.GetDatabase(), "fabric:data-protection-keys");
        }
        else
        {
            protection.UseEphemeralDataProtectionProvider();
        }

        return services;
    }

    /// <summary>
    /// The Redis connection settings of distributed mode (<c>Fabric:Redis:ConnectionString</c>). It starts, and keeps
    /// running, while Redis is down: connections are made in the background and retried rather than failing.
    /// </summary>
    public static ConfigurationOptions ConnectionOptions(IConfiguration configuration)
    {
        var options = configuration.GetSection(RedisOptions.SectionName).Get<RedisOptions>();
        if (string.IsNullOrWhiteSpace(options?.ConnectionString))
        {
            throw new InvalidOperationException(
                $"Distributed mode needs {RedisOptions.SectionName}:ConnectionString (environment: Fabric__Redis__ConnectionString), e.g. localhost:6379.");
        }

        var redis = ConfigurationOptions.Parse(options.ConnectionString);
        redis.AbortOnConnectFail = false;
        return redis;
    }
}
