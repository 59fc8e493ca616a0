using System.Globalization;
using System.Threading.RateLimiting;
using Fabric.Gateway.Http;
using Fabric.Gateway.Sockets.Auth;
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
        builder.Services.AddSingleton<SocketHost>();
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
        app.Map("/v1/ws", (HttpContext context, SocketHost host) => host.RunAsync(context)).RequireRateLimiting(ConnectionPolicy);
        return app;
    }
}
