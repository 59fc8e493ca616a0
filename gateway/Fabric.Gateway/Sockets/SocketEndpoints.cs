using Fabric.Gateway.Api;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Fabric.Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Sockets;

internal static partial class SocketEndpoints
{
    public const string SubProtocol = "fabric.v1";

    public static WebApplicationBuilder AddFabricSockets(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SocketOptions>().BindConfiguration(SocketOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SocketOptions>, SocketOptionsValidator>();
        builder.Services.AddSingleton<FeedRegistry>();
        builder.Services.AddSingleton<KeepAliveWheel>();
        builder.Services.AddHostedService(services => services.GetRequiredService<KeepAliveWheel>());
        builder.Services.AddHostedService<FeedRenewalService>();
        return builder;
    }

    private static async Task<IResult?> FindCustomerAsync(CustomerDirectory directory, string customer)
    {
        try
        {
            return await directory.GetAsync(customer) is null ? Problems.UnknownCustomer() : null;
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            return Problems.Unavailable("The customer registry could not be reached; retry.");
        }
    }

    /// <summary><c>GET /v1/ws?customer={customer}</c>, subprotocol <c>fabric.v1</c>; see docs/protocol.md.</summary>
    public static WebApplication MapSockets(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<SocketOptions>>().Value;
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = options.KeepAliveInterval, KeepAliveTimeout = options.KeepAliveTimeout });
        app.Map("/v1/ws", ConnectAsync);
        return app;
    }

    private static async Task ConnectAsync(HttpContext context, FeedRegistry registry, CustomerDirectory directory, IOptions<SocketOptions> options, KeepAliveWheel keepAlives, ILoggerFactory loggers)
    {
        var customer = context.Request.Query["customer"].ToString();
        var requested = context.WebSockets.WebSocketRequestedProtocols;
        var rejection =
            !context.WebSockets.IsWebSocketRequest ? Problems.BadRequest("websocket-required", "This endpoint takes WebSocket connections only.")
            : !AllowedOrigins.IsAllowed(context.Request.Headers.Origin, options.Value.AllowedOrigins) ? Problems.ForbiddenOrigin()
            : !Names.IsValidId(customer) ? Problems.InvalidCustomer()
            : requested.Count > 0 && !requested.Contains(SubProtocol) ? Problems.BadRequest("unsupported-subprotocol", $"The only subprotocol is {SubProtocol}.")
            : null;
        if (rejection is not null)
        {
            await rejection.ExecuteAsync(context);
            return;
        }

        // An unregistered id gets a 404 before the upgrade, so a stranger's socket activates no grain and writes nothing.
        if (await FindCustomerAsync(directory, customer) is { } unknown)
        {
            await unknown.ExecuteAsync(context);
            return;
        }

        var protocol = requested.Count > 0 ? SubProtocol : null;
        var (socket, coalescer) = await SocketUpgrade.AcceptAsync(context, protocol, options.Value, keepAlives);
        using var disposeSocket = socket;
        using var session = new SocketSession(customer, socket, options.Value, loggers.CreateLogger<SocketSession>(), coalescer);
        var feed = registry.Attach(session);
        GatewayTelemetry.ActiveSockets.Add(1);
        try
        {
            var sending = session.RunSendLoopAsync();
            session.Send(new WelcomeFrame(session.Id, customer, protocol), ApiJsonContext.Default.WelcomeFrame);
            await session.RunReceiveLoopAsync(feed, context.RequestAborted);
            session.RequestClose(CloseCodes.Normal, "bye");
            await sending;
        }
        finally
        {
            coalescer?.Detach();
            registry.Detach(session, feed);
            GatewayTelemetry.ActiveSockets.Add(-1);
        }
    }
}
