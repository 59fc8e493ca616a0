using Fabric.Grains;
using System.Net;
using System.Net.Sockets;
using Fabric.Outbound.Delivery;
using Fabric.Rules.Outbound;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fabric.Outbound.Hosting;

/// <summary>Wiring for outbound webhooks, on every process that hosts grains.</summary>
public static class OutboundSiloBuilderExtensions
{
    /// <summary>
    /// The endpoint grains' services: options (<c>Fabric:Outbound</c>), the egress policy and the pooled
    /// <c>fabric-outbound</c> HTTP client. The host provides Data Protection (endpoint secrets are encrypted with it).
    /// </summary>
    public static ISiloBuilder AddFabricOutbound(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddFabricOutboundPolicy(configuration);
        silo.Services.TryAddKeyedSingleton(FabricTime.Key, TimeProvider.System);
        silo.Services.TryAddSingleton<WebhookSender>(services => new WebhookSender(
            services.GetRequiredService<IHttpClientFactory>(),
            services.GetRequiredService<IOptions<OutboundOptions>>(),
            services.GetRequiredKeyedService<TimeProvider>(FabricTime.Key)));
        silo.Services.AddHttpClient(WebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(services => Handler(services.GetRequiredService<EgressPolicy>()))
            // Timeouts are per attempt (the endpoint's own); the factory's handler lifetime is moot with a pooled
            // SocketsHttpHandler that re-resolves names itself.
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // The attempt log records every attempt; the factory's logging handlers would add a log scope and two
            // async frames to each of them, logged or not.
            .RemoveAllLoggers();
        return silo;
    }

    /// <summary>
    /// No redirects (a 3xx is a failed attempt, as Standard Webhooks says), no cookies, and every connection checked
    /// against the egress policy on the address it dials — the name may resolve elsewhere than at registration.
    /// </summary>
    private static SocketsHttpHandler Handler(EgressPolicy policy) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        // A proxy from HTTP(S)_PROXY would be the address the guard checks, not the endpoint's.
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host.Trim('[', ']');
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
            var allowed = addresses.Where(a => policy.IsAllowed(host, a)).ToArray();
            if (allowed.Length == 0)
            {
                throw new EgressBlockedException(host);
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
