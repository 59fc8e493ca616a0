using Fabric.Hosting.Cluster;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Customers;

internal static class CustomerHostingExtensions
{
    /// <summary>
    /// What every feature needs to reach a customer: grain references, the cached registry with its change-feed
    /// poller, and Data Protection for sources' secrets — keys in Redis in distributed mode
    /// (so all gateways share them), in memory in embedded mode (whose state is in memory too).
    /// </summary>
    public static WebApplicationBuilder AddFabricCustomers(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CustomerGrains>();
        builder.Services.AddOptions<CustomerDirectoryOptions>().BindConfiguration(CustomerDirectoryOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CustomerDirectoryOptions>, CustomerDirectoryOptionsValidator>();
        builder.Services.AddSingleton<CustomerDirectory>();
        builder.Services.AddSingleton<SecretProtector>();
        builder.Services.AddHostedService<RegistryChangesPoller>();

        builder.Services.AddFabricDataProtection(builder.Configuration);
        return builder;
    }
}
