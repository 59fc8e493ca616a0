using Fabric.Grains.Hosting;
using Fabric.Silo;

var builder = Host.CreateApplicationBuilder(args);
var ports = builder.Configuration.GetSection(SiloOptions.SectionName).Get<SiloOptions>() ?? new SiloOptions();

builder.UseOrleans(silo => silo
    .UseLocalhostClustering(ports.SiloPort, ports.GatewayPort)   // Redis clustering arrives with distributed mode
    .AddMemoryGrainStorageAsDefault()
    .AddActivityPropagation()
    .AddFabricGrains(builder.Configuration));
builder.AddFabricSiloTelemetry();

await builder.Build().RunAsync();
