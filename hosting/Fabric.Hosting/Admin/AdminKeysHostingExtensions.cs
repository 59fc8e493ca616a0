using Microsoft.Extensions.DependencyInjection;

namespace Fabric.Hosting.Admin;

public static class AdminKeysHostingExtensions
{
    /// <summary><see cref="AdminKeys"/> from <c>Fabric:Admin:Keys</c>: the gateway's admin API and every process's dashboard take them.</summary>
    public static IServiceCollection AddFabricAdminKeys(this IServiceCollection services)
    {
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName);
        services.AddSingleton<AdminKeys>();
        return services;
    }
}
