using Fabric.Gateway.Api;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Fabric.Gateway.Hosting;

internal static class HttpHostingExtensions
{
    /// <summary>Every error is problem+json; JSON goes through the source-generated context.</summary>
    public static WebApplicationBuilder AddFabricHttp(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster");
        return builder;
    }

    public static WebApplication UseFabricHttp(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary><c>GET /healthz</c>: 200 when the gateway can reach a live silo.</summary>
    public static WebApplication MapFabricHealth(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { AllowCachingResponses = false });
        return app;
    }
}
