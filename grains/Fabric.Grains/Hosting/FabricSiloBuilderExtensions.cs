using Fabric.Contracts;
using Fabric.Grains.Customers;
using Fabric.Grains.Log;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fabric.Grains.Hosting;

/// <summary>Silo wiring shared by the standalone silo and the gateway's co-hosted silo.</summary>
public static class FabricSiloBuilderExtensions
{
    /// <summary>
    /// Adds Fabric's grains with their options (<c>Fabric:Customers</c>), the in-memory event log and the memory
    /// stream provider that carries each customer's events to server-side consumers.
    /// </summary>
    public static ISiloBuilder AddFabricGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);

        silo.Services.AddOptions<CustomerOptions>()
            .Bind(configuration.GetSection(CustomerOptions.SectionName))
            .ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CustomerOptions>, CustomerOptionsValidator>());
        silo.Services.TryAddKeyedSingleton(FabricTime.Key, TimeProvider.System);
        silo.Services.TryAddSingleton<IEventLog, InMemoryEventLog>();

        silo.AddMemoryStreams(FabricStreams.ProviderName)
            .AddMemoryGrainStorage("PubSubStore");
        return silo;
    }
}
