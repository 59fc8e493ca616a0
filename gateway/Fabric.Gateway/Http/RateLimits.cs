using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Fabric.Gateway.Http;

/// <summary>
/// Per-customer request rate (ASP.NET Core rate limiting): one token bucket per customer id in the route, on every
/// ingest, publish and history request. Bound from <c>Fabric:RateLimit</c>.
/// </summary>
internal static class RateLimits
{
    public const string PerCustomer = "per-customer";
    public const string SectionName = "Fabric:RateLimit";

    public static WebApplicationBuilder AddFabricRateLimits(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SectionName).Get<RateLimitOptions>() ?? new RateLimitOptions();
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(SectionName);
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(PerCustomer, context =>
            {
                var customer = context.GetRouteValue("customer") as string ?? "";
                return options.PermitsPerSecond <= 0
                    ? RateLimitPartition.GetNoLimiter(customer)
                    : RateLimitPartition.GetTokenBucketLimiter(customer, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = Math.Max(options.Burst, 1),
                        TokensPerPeriod = Math.Max(options.PermitsPerSecond / 10, 1),
                        // Refilled ten times a second, so a burst allowance is not all spent at the top of each second.
                        ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await Problems.RateLimited($"This customer is over its limit of {options.PermitsPerSecond} requests per second; retry after {retryAfter} s.")
                    .ExecuteAsync(context.HttpContext);
            };
        });
        return builder;
    }
}

/// <summary>The per-customer request rate.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Sustained requests per second per customer, across all its endpoints on one gateway. Default 1,000; 0 = no limit.</summary>
    public int PermitsPerSecond { get; set; } = 1_000;

    /// <summary>Requests a quiet customer may send at once above the rate. Default 2,000.</summary>
    public int Burst { get; set; } = 2_000;
}
