using Fabric.Hosting.Cluster;

namespace Fabric.Gateway.Admin;

internal static class AdminHostingExtensions
{
    /// <summary>The admin API's seed (embedded mode only) and the OpenAPI document of every endpoint.</summary>
    public static WebApplicationBuilder AddFabricAdmin(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SeedOptions>().BindConfiguration(SeedOptions.SectionName);
        if (!FabricMode.IsDistributed(builder.Configuration))
        {
            builder.Services.AddHostedService<RegistrySeeder>();
        }

        builder.Services.AddOpenApi();
        return builder;
    }

    /// <summary><c>/openapi/v1.json</c> always; the Scalar reference page at <c>/scalar</c> in development.</summary>
    public static WebApplication MapFabricOpenApi(this WebApplication app)
    {
        app.MapOpenApi();
        if (app.Environment.IsDevelopment())
        {
            Scalar.AspNetCore.ScalarEndpointRouteBuilderExtensions.MapScalarApiReference(app);
        }

        return app;
    }
}
