using System.Globalization;
using System.Threading.RateLimiting;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;
using Fabric.Gateway.Sockets.Auth;
using Fabric.Gateway.Telemetry;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Sockets;

internal static partial class SocketEndpoints
{
    public const string SubProtocol = "fabric.v1";

    /// <summary>
    /// The same protocol, where one WebSocket message may carry several server frames as a JSON array (what a client
    /// offering it must read): a busy socket takes one message per write instead of one per event.
    /// </summary>
    public const string BatchSubProtocol = "fabric.v1.batch";

    /// <summary>The rate-limiter policy of <c>/v1/ws</c>: this gateway's open sockets and new sockets per second.</summary>
    private const string ConnectionPolicy = "sockets";

    public static WebApplicationBuilder AddFabricSockets(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SocketOptions>().BindConfiguration(SocketOptions.SectionName).ValidateOnStart();
        // Hosting logs each request's URL at Information, query string included: a browser's access_token must not reach
        // the logs (SignalR's documented pitfall), so that category logs warnings and above only.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Services.AddSingleton<IValidateOptions<SocketOptions>, SocketOptionsValidator>();
        builder.Services.AddSingleton<FeedRegistry>();
        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<IOptions<SocketOptions>>().Value;
            return new ConnectionTokens(options.TokenClockSkew, options.MaxTopics);
        });
        builder.Services.AddSingleton<SocketAuthenticator>();
        builder.Services.AddSingleton<SocketCommands>();
        builder.Services.AddSingleton<KeepAliveWheel>();
        builder.Services.AddHostedService(services => services.GetRequiredService<KeepAliveWheel>());
        builder.Services.AddSingleton<TokenExpiry>();
        builder.Services.AddHostedService(services => services.GetRequiredService<TokenExpiry>());
        builder.Services.AddSingleton<SocketDrain>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SocketDrain>());
        builder.Services.AddHostedService<FeedRenewalService>();
        builder.Services.AddRateLimiter(limiter =>
        {
            // ASP.NET Core's rate limiter: the concurrency lease is held while the socket's request runs, so it counts
            // open sockets; the token bucket paces new ones (a gateway restart's clients come back over seconds).
            limiter.AddPolicy(ConnectionPolicy, context =>
            {
                var settings = context.RequestServices.GetRequiredService<IOptions<SocketOptions>>().Value;
                return RateLimitPartition.Get("gateway", _ => ConnectionLimiter(settings));
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                rejected.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await Problems.TooManyConnections("This gateway is at its limit of open or new sockets; retry later or elsewhere.").ExecuteAsync(rejected.HttpContext);
            };
        });
        return builder;
    }

    private static RateLimiter ConnectionLimiter(SocketOptions settings)
    {
        var open = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = settings.MaxConnections, QueueLimit = 0 });
        if (settings.NewConnectionsPerSecond == 0)
        {
            return open;
        }

        var rate = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.NewConnectionBurst,
            TokensPerPeriod = Math.Max(1, settings.NewConnectionsPerSecond / 10),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
        return RateLimiter.CreateChained(open, rate);
    }

    /// <summary><c>GET /v1/ws?customer={customer}</c>, subprotocol <c>fabric.v1</c>; see docs/protocol.md.</summary>
    public static WebApplication MapSockets(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<SocketOptions>>().Value;
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = options.KeepAliveInterval, KeepAliveTimeout = options.KeepAliveTimeout });
        app.UseRateLimiter();
        app.Map("/v1/ws", ConnectAsync).RequireRateLimiting(ConnectionPolicy);
        return app;
    }

    private static async Task ConnectAsync(
        HttpContext context, FeedRegistry registry, SocketAuthenticator authenticator, SocketCommands commands, CustomerGrains grains, SocketDrain drain,
        TokenExpiry expiry, IOptions<SocketOptions> options, KeepAliveWheel keepAlives, ILoggerFactory loggers)
    {
        var settings = options.Value;
        var customer = context.Request.Query["customer"].ToString();
        var requested = context.WebSockets.WebSocketRequestedProtocols;
        var rejection =
            !context.WebSockets.IsWebSocketRequest ? Problems.BadRequest("websocket-required", "This endpoint takes WebSocket connections only.")
            : !AllowedOrigins.IsAllowed(context.Request.Headers.Origin, settings.AllowedOrigins) ? Problems.ForbiddenOrigin()
            : !InputRules.IsValidId(customer) ? Problems.InvalidCustomer()
            : requested.Count > 0 && !requested.Contains(SubProtocol) && !requested.Contains(BatchSubProtocol)
                ? Problems.BadRequest("unsupported-subprotocol", $"The subprotocols are {BatchSubProtocol} and {SubProtocol}.")
            : drain.Draining ? Problems.Unavailable("This gateway is shutting down; connect to another.")
            : null;
        if (rejection is not null)
        {
            await rejection.ExecuteAsync(context);
            return;
        }

        // Everything before the upgrade: the credential (401/403), then admission by the customer's grain (429). A stranger
        // activates no grain and writes nothing; a cluster that does not answer in AuthTimeout gets a 503, not a hang.
        var id = SocketSession.NewId();
        Fabric.Contracts.SessionAdmission admission;
        SocketCredential credential;
        try
        {
            var (checkedCredential, problem) = await authenticator.AuthenticateAsync(context, customer).WaitAsync(settings.AuthTimeout);
            if (problem is not null)
            {
                await problem.ExecuteAsync(context);
                return;
            }

            credential = checkedCredential!;
            var pending = new SocketSession.Pending(id, customer, credential);
            admission = await grains.Get(customer).Connect(pending.Describe(registry.GatewayId), settings.MaxConnectionsPerCustomer).WaitAsync(settings.AuthTimeout);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            await Problems.Unavailable("The credential or the session could not be checked right now; retry.").ExecuteAsync(context);
            return;
        }

        if (!admission.Admitted)
        {
            await Problems.TooManyConnections($"This customer already holds {admission.Sessions} sockets, its limit.").ExecuteAsync(context);
            return;
        }

        var protocol = requested.Count == 0 ? null : requested.Contains(BatchSubProtocol) ? BatchSubProtocol : SubProtocol;
        SocketSession session;
        try
        {
            var (socket, coalescer) = await SocketUpgrade.AcceptAsync(context, protocol, settings, keepAlives);
            session = new SocketSession(customer, id, credential, socket, settings, loggers.CreateLogger<SocketSession>(), coalescer)
            {
                Batched = protocol == BatchSubProtocol,
            };
        }
        catch
        {
            // Admitted but never upgraded: the grain must not count it.
            await grains.Get(customer).Disconnect(registry.GatewayId, id);
            throw;
        }

        using var disposeSocket = session.Socket;
        using var disposeSession = session;
        var feed = registry.Attach(session);
        GatewayTelemetry.ActiveSockets.Add(1);
        expiry.Track(session);
        try
        {
            var sending = session.RunSendLoopAsync();
            SocketReplies.Welcome(session, protocol, admission.Epoch.Id);
            await session.RunReceiveLoopAsync(commands, feed, context.RequestAborted);
            session.RequestClose(CloseCodes.Normal, "bye");
            await sending;
        }
        finally
        {
            session.Ended = true;
            session.Coalescer?.Detach();
            registry.Detach(session, feed);
            registry.Disconnected(session);
            expiry.Ended(session);
            GatewayTelemetry.ActiveSockets.Add(-1);
            GatewayTelemetry.Closes.Add(1, new KeyValuePair<string, object?>("code", session.CloseCode ?? 1006));
        }
    }
}
