using Fabric.Gateway.Admin;
using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Fabric.Gateway.Outbound;
using Fabric.Gateway.Transforms;
using Fabric.Gateway.Webhooks;
using Fabric.Hosting.Health;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Hosting;

internal static class HttpHostingExtensions
{
    /// <summary>Every error is problem+json; JSON goes through the source-generated context; requests are bounded in time; the probes' checks.</summary>
    public static WebApplicationBuilder AddFabricHttp(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = RejectionMeter.Note);
        builder.Services.AddExceptionHandler<BadRequestBodyHandler>();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            // One context per feature; none shares a type with another.
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, EventsJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, AdminJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, WebhooksJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, OutboundJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, TransformsJsonContext.Default);
        });
        builder.AddFabricHealth().AddCheck<ClusterHealthCheck>("cluster", tags: [HealthHostingExtensions.Ready]);

        builder.Services.AddOptions<HttpLimitOptions>().BindConfiguration(HttpLimitOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<HttpLimitOptions>, HttpLimitOptionsValidator>();
        // Registered after the host's own Kestrel setup, so these win over Kestrel:Limits for the same limits.
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<HttpLimitOptions>>((kestrel, http) =>
        {
            ApplyLimits(kestrel.Limits, http.Value);
            // Endpoint defaults are one action, applied to endpoints bound from URLs and configuration: this replaces any
            // earlier one, and an endpoint made with Listen() in code before this runs would not get it (none is).
            kestrel.ConfigureEndpointDefaults(listen => listen.UseLingeringClose(http.Value.CloseLinger));
        });
        builder.Services.AddOptions<SocketTransportOptions>().Configure<IOptions<HttpLimitOptions>>((transport, http) => transport.UnsafePreferInlineScheduling = http.Value.InlineScheduling);
        builder.Services.AddRequestTimeouts();
        builder.Services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<HttpLimitOptions>>((timeouts, http) => timeouts.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = http.Value.RequestTimeout,
            // The middleware's default is 504, which would read as a failure of ours; the client was too slow.
            TimeoutStatusCode = StatusCodes.Status408RequestTimeout,
            WriteTimeoutResponse = context => WriteTimeoutAsync(context, http.Value.RequestTimeout),
        });
        return builder;
    }

    public static WebApplication UseFabricHttp(this WebApplication app)
    {
        // Outermost: it sees the status every layer below settled on.
        app.Use(RejectionMeter.MeasureAsync);
        app.Use(LingeringClose.NoteUpgradesAsync);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // Every endpoint gets the default policy; /v1/ws only until its handshake is done, because ASP.NET Core's
        // WebSocket middleware switches the timeout off once a socket is accepted (a socket lives for hours).
        app.UseRequestTimeouts();
        return app;
    }

    private static void ApplyLimits(KestrelServerLimits limits, HttpLimitOptions http)
    {
        limits.MinRequestBodyDataRate = http.MinRequestBodyBytesPerSecond > 0 ? new MinDataRate(http.MinRequestBodyBytesPerSecond, http.MinDataRateGracePeriod) : null;
        limits.MinResponseDataRate = http.MinResponseBytesPerSecond > 0 ? new MinDataRate(http.MinResponseBytesPerSecond, http.MinDataRateGracePeriod) : null;
        limits.RequestHeadersTimeout = http.RequestHeadersTimeout;
        limits.KeepAliveTimeout = http.KeepAliveTimeout;
    }

    private static Task WriteTimeoutAsync(HttpContext context, TimeSpan timeout)
    {
        // While this runs, RequestAborted is still the middleware's cancelled token, and a JSON write given no token
        // writes through it: the body would be dropped. The middleware puts the connection's own token back afterwards.
        context.RequestAborted = CancellationToken.None;
        // The rest of a trickling body is not worth draining: close the connection after the answer.
        context.Response.Headers.Connection = "close";
        return Problems.RequestTimeout(timeout).ExecuteAsync(context);
    }
}
