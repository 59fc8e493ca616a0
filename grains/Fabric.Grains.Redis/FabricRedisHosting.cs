using Fabric.Contracts;
using Fabric.Grains.Log;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Fabric.Grains.Redis;

/// <summary>
/// Distributed mode, selected with <c>Fabric:Mode=Distributed</c>: silos and gateways find each other through Redis
/// and keep everything that must outlive a process there.
/// </summary>
public static class FabricRedisHosting
{
    public const string ModeKey = "Fabric:Mode";

    /// <summary>Whether configuration selects distributed mode (<c>Fabric:Mode</c> = <c>Distributed</c>; default Embedded).</summary>
    public static bool IsDistributed(IConfiguration configuration) =>
        string.Equals(configuration?[ModeKey], "Distributed", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Silo side: Redis membership, grain state (default and the streams' <c>PubSubStore</c>), reminders, and the
    /// durable event log in Redis Streams, all on <c>Fabric:Redis:ConnectionString</c>. Call after
    /// <c>AddFabricGrains</c>; the Redis log replaces the in-memory one.
    /// </summary>
    public static ISiloBuilder UseFabricRedis(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var redis = RedisConfiguration(configuration);
        silo.Configure<ClusterOptions>(o => ConfigureCluster(o, configuration))
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

    /// <summary>Client side (a gateway): find the silos through Redis membership.</summary>
    public static IClientBuilder UseFabricRedis(this IClientBuilder client, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(client);
        var redis = RedisConfiguration(configuration);
        return client.Configure<ClusterOptions>(o => ConfigureCluster(o, configuration))
            .UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
    }

    private static void ConfigureCluster(ClusterOptions options, IConfiguration configuration)
    {
        // Silos and gateways must agree on both; override with Fabric:Cluster:ServiceId / ClusterId.
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
        if (IsDistributed(configuration))
        {
            var redis = RedisConfiguration(configuration);
            var connection = new Lazy<IConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(redis));
            protection.PersistKeysToStackExchangeRedis(() => connection.Value.GetDatabase(), "fabric:data-protection-keys");
        }
        else
        {
            protection.UseEphemeralDataProtectionProvider();
        }

        return services;
    }

    /// <summary>The Redis connection settings of distributed mode, for what a gateway keeps in Redis itself (Data Protection keys).</summary>
    public static ConfigurationOptions ConnectionOptions(IConfiguration configuration) => RedisConfiguration(configuration);

    private static ConfigurationOptions RedisConfiguration(IConfiguration configuration)
    {
        var options = configuration.GetSection(RedisOptions.SectionName).Get<RedisOptions>();
        if (string.IsNullOrWhiteSpace(options?.ConnectionString))
        {
            throw new InvalidOperationException(
                $"Distributed mode needs {RedisOptions.SectionName}:ConnectionString (environment: Fabric__Redis__ConnectionString), e.g. localhost:6379.");
        }

        var redis = ConfigurationOptions.Parse(options.ConnectionString);
        // Start (and keep running) while Redis is down: connect in the background and retry, rather than fail.
        redis.AbortOnConnectFail = false;
        return redis;
    }
}
