using Fabric.Contracts;
using Fabric.Grains.Log;
using Fabric.Hosting.Cluster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Fabric.Grains.Redis;

/// <summary>
/// Distributed mode's silo side: membership, state, reminders and the event log in Redis. What gateways share with it
/// (the connection, the cluster's identity, Data Protection) is <see cref="FabricRedis"/>.
/// </summary>
public static class FabricRedisHosting
{
    /// <summary>
    /// Silo side: Redis membership, grain state (default and the streams' <c>PubSubStore</c>), reminders, and the
    /// durable event log in Redis Streams, all on <c>Fabric:Redis:ConnectionString</c>. Call after
    /// <c>AddFabricGrains</c>; the Redis log replaces the in-memory one.
    /// </summary>
    public static ISiloBuilder UseFabricRedis(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var redis = FabricRedis.ConnectionOptions(configuration);
        silo.Configure<ClusterOptions>(o => FabricRedis.ConfigureCluster(o, configuration))
            .Configure<ClusterMembershipOptions>(configuration.GetSection("Fabric:Cluster:Membership"))
            .UseRedisClustering(o => o.ConfigurationOptions = redis.Clone())
            // Cleared state is deleted, not kept as an empty record: a customer whose last socket left, or who was
            // removed, leaves no key behind.
            .AddRedisGrainStorageAsDefault(o =>
            {
                o.ConfigurationOptions = redis.Clone();
                o.DeleteStateOnClear = true;
            })
            .AddRedisGrainStorage(FabricStreams.PubSubStore, o => o.ConfigurationOptions = redis.Clone())
            .UseRedisReminderService(o => o.ConfigurationOptions = redis.Clone());

        // One multiplexer for the log, shared by every grain of the silo; it reconnects by itself after Redis restarts.
        silo.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis.Clone()));
        silo.Services.Replace(ServiceDescriptor.Singleton<IEventLog, RedisEventLog>());
        return silo;
    }
}
