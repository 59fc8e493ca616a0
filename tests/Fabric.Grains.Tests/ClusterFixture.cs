using Fabric.Grains.Hosting;
using Fabric.Grains.Log;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Fabric.Grains.Tests;

/// <summary>One in-process cluster of two silos for every grain test, with small limits so retention is cheap to reach.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int RetentionMaxEvents = 50;
    public const int IdempotencyMaxKeys = 20;
    public static readonly TimeSpan RetentionMaxAge = TimeSpan.FromHours(1);
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromMinutes(30);

    public ManualClock Clock { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>
    /// One log for both silos, as Redis is in distributed mode: a grain reactivated on the other silo continues from it.
    /// (Each silo with its own in-memory log made every reactivation test pass or fail by where the grain landed.)
    /// </summary>
    public InMemoryEventLog Log { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Fabric:Customers:RetentionMaxEvents"] = RetentionMaxEvents.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Fabric:Customers:RetentionMaxAge"] = RetentionMaxAge.ToString(),
            ["Fabric:Customers:IdempotencyMaxKeys"] = IdempotencyMaxKeys.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Fabric:Customers:IdempotencyWindow"] = IdempotencyWindow.ToString(),
        }).Build();

        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IEventLog>(Log);
            silo.AddFabricInMemoryState().AddFabricGrains(configuration);
        });
        builder.ConfigureHost(host => host.Services.AddKeyedSingleton<TimeProvider>(FabricTime.Key, Clock));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>A one-silo cluster of a test's own, on a log the test controls, with these <c>Fabric:*</c> settings.</summary>
    public static async Task<InProcessTestCluster> StartWithLogAsync(IEventLog log, Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(log);
            silo.AddFabricInMemoryState().AddFabricGrains(configuration);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>A clock the tests move by hand; only Fabric's grains read it, Orleans keeps the real one.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
