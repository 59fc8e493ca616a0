using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fabric.Rules.Outbound;

public static class OutboundRulesExtensions
{
    /// <summary>
    /// <c>Fabric:Outbound</c>'s options (validated at start) and the egress policy: what a gateway needs to check an
    /// endpoint's URL at registration, and what the silos' delivery builds on.
    /// </summary>
    public static IServiceCollection AddFabricOutboundPolicy(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        // Once per container: an embedded process asks twice (its silo and its gateway), and binding the section twice
        // would add every AllowedHosts entry twice.
        if (services.Any(s => s.ServiceType == typeof(EgressPolicy)))
        {
            return services;
        }

        services.AddOptions<OutboundOptions>().Bind(configuration.GetSection(OutboundOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OutboundOptions>, OutboundOptionsValidator>());
        services.TryAddSingleton<EgressPolicy>();
        return services;
    }
}
