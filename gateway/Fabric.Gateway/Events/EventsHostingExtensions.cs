using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Events;

internal static class EventsHostingExtensions
{
    /// <summary>The ingestor every surface appends through (webhooks, the publish API, sockets) and its coalescer.</summary>
    public static WebApplicationBuilder AddFabricIngest(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        builder.Services.AddSingleton<AppendCoalescer>();
        builder.Services.AddSingleton<EventIngestor>();
        return builder;
    }
}
