using Fabric.Hosting.Admin;
using Fabric.Hosting.Dashboard;
using Fabric.Hosting.Health;
using Fabric.Hosting.Telemetry;
using Fabric.Silo;

// The standalone silo: hosts Fabric's grains for gateways that run as Orleans clients.
var builder = WebApplication.CreateBuilder(args);

builder.AddFabricSilo();                    // Orleans: Redis in distributed mode, else localhost; grains, outbound, dashboard
builder.AddFabricSiloTelemetry();           // OpenTelemetry by the OTEL_* settings; /metrics
builder.AddFabricSiloHealth();              // /healthz alive, /readyz active member + Redis + not draining
builder.Services.AddFabricAdminKeys();      // the dashboard's admin keys (Fabric:Admin:Keys)

var app = builder.Build();
app.MapFabricProbes();
app.MapFabricTelemetry();
app.MapFabricDashboard();
await app.RunAsync();
