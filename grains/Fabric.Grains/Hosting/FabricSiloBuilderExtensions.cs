using Fabric.Contracts;
using Fabric.Grains.Customers;
using Fabric.Grains.Log;
using Fabric.Grains.Registry;
using Fabric.Rules.Wasm;
using Fabric.Wasm;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace Fabric.Grains.Hosting;

/// <summary>Silo wiring shared by the standalone silo and the gateway's co-hosted silo.</summary>
public static class FabricSiloBuilderExtensions
{
    /// <summary>
    /// Adds Fabric's grains with their options (<c>Fabric:Customers</c>), the in-memory event log (unless a durable one
    /// is registered) and the memory stream provider that carries each customer's events to server-side consumers.
    /// Grain storage (default and <c>PubSubStore</c>) and reminders come from <see cref="AddFabricInMemoryState"/> or
    /// distributed mode's Redis wiring.
    /// </summary>
    public static ISiloBuilder AddFabricGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);

        silo.Services.AddOptions<CustomerOptions>()
            .Bind(configuration.GetSection(CustomerOptions.SectionName))
            .ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CustomerOptions>, CustomerOptionsValidator>());
        silo.Services.AddOptions<RegistryOptions>()
            .Bind(configuration.GetSection(RegistryOptions.SectionName))
            .ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RegistryOptions>, RegistryOptionsValidator>());
        silo.Services.TryAddKeyedSingleton(FabricTime.Key, TimeProvider.System);
        silo.Services.TryAddSingleton<IEventLog, InMemoryEventLog>();
        silo.Services.TryAddSingleton<StreamConsumers>();

        // Customers' Wasm modules (ingest here, outbound in the endpoint grains): one engine and compile cache per process.
        silo.Services.AddOptions<WasmOptions>()
            .Bind(configuration.GetSection(WasmOptions.SectionName))
            .ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WasmOptions>, WasmOptionsValidator>());
        silo.Services.TryAddSingleton<WasmRuntime>();

        // The stream is a live feed nobody rewinds (CustomerOptions.PublishToStream), so its cache need not keep Orleans'
        // default half hour of events, which would grow the silo with the event rate.
        silo.AddMemoryStreams(FabricStreams.ProviderName, stream => stream.ConfigureCacheEviction(eviction =>
            eviction.Configure<IOptions<CustomerOptions>>((o, customers) =>
            {
                o.DataMaxAgeInCache = customers.Value.StreamCacheMaxAge;
                o.DataMinTimeInCache = customers.Value.StreamCacheMaxAge;
            })));
        silo.Configure<SiloMessagingOptions>(o =>
        {
            o.MaxMessageBodySize = FabricMessaging.MaxMessageBodyBytes;
            o.MaxMessageHeaderSize = FabricMessaging.MaxMessageHeaderBytes;
        });
        return silo;
    }

    /// <summary>
    /// Embedded mode's state: grain storage (default and the streams' <c>PubSubStore</c>) and reminders, in memory. The
    /// state is kept in Orleans' own binary format, not the storage default's JSON: it never leaves the process, and JSON
    /// (type names, reference tracking) would make every endpoint's once-a-second save of its attempt log costly.
    /// </summary>
    public static ISiloBuilder AddFabricInMemoryState(this ISiloBuilder silo) => silo
        .AddMemoryGrainStorageAsDefault(BinaryState)
        .AddMemoryGrainStorage(FabricStreams.PubSubStore, BinaryState)
        .UseInMemoryReminderService();

    private static void BinaryState(OptionsBuilder<MemoryGrainStorageOptions> options) =>
        options.Configure<Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
}
