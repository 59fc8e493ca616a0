using Fabric.Gateway.Admin;
using Fabric.Gateway.Api;
using Fabric.Gateway.Auth;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Events;
using Fabric.Gateway.Hosting;
using Fabric.Gateway.Http;
using Fabric.Gateway.Outbound;
using Fabric.Gateway.Sockets;
using Fabric.Gateway.Telemetry;
using Fabric.Gateway.Transforms;
using Fabric.Gateway.Webhooks;
using Fabric.Hosting.Dashboard;
using Fabric.Hosting.Health;
using Fabric.Hosting.Telemetry;

namespace Fabric.Gateway;

public static class Program
{
    public static Task Main(string[] args) => Create(args).RunAsync();

    /// <summary>Builds the whole gateway; tests call this with their own configuration to run it on real Kestrel.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);

        builder.AddFabricCluster();          // the Orleans client (distributed), or the host's co-hosted silo
        builder.AddFabricTelemetry();        // OpenTelemetry by the OTEL_* settings; /metrics
        builder.AddFabricHttp();             // problem+json, JSON source generation, /readyz's checks
        builder.AddFabricRateLimits();       // per-customer token buckets, charged after verification
        builder.AddFabricCustomers();        // grain references, the cached registry, Data Protection
        builder.AddFabricIngest();           // the ingestor every surface appends through, and its coalescer
        builder.AddFabricAuth();             // admin keys and customers' API keys (Authorization: Bearer)
        builder.AddFabricAdmin();            // the embedded seed and OpenAPI
        builder.AddFabricWebhooks();         // POST /v1/webhooks/{customer}/{source}
        builder.AddFabricSockets();          // GET /v1/ws, the per-customer feeds and the gateway observer
        builder.AddFabricOutboundAdmin();    // the egress policy endpoint URLs are checked against
        builder.AddFabricTransforms();       // customers' Wasm modules on sources and endpoints

        var app = builder.Build();
        app.UseFabricHttp();
        app.UseRouting();                    // after the HTTP layer, so a short-circuited endpoint still runs inside it
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapFabricProbes();               // /healthz alive, /readyz cluster + Redis + not draining
        app.MapFabricTelemetry();            // /metrics
        app.MapFabricDashboard();            // the Orleans Dashboard, behind the admin key
        app.MapFabricOpenApi();
        app.MapAdminApi();
        app.MapOutboundAdmin();
        app.MapTransformsAdmin();
        app.MapWebhooks();
        app.MapEventsApi();
        app.MapSockets();
        return app;
    }
}
