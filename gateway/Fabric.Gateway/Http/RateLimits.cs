using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Http;

/// <summary>
/// Per-customer request rate: one token bucket per customer (System.Threading.RateLimiting, the limiter behind ASP.NET
/// Core's rate-limiting middleware). It is charged only for requests that proved they come from the customer — a
/// webhook after its signature passed, an API call after its key did — so a stranger posting junk to a customer's
/// URL cannot spend that customer's budget and get its real deliveries refused. Bound from <c>Fabric:RateLimit</c>.
/// </summary>
internal sealed class RateLimits : IDisposable
{
    public const string SectionName = "Fabric:RateLimit";

    private readonly RateLimitOptions _options;
    private readonly PartitionedRateLimiter<string> _limiter;

    public RateLimits(IOptions<RateLimitOptions> options)
    {
        _options = options.Value;
        var settings = _options;
        _limiter = PartitionedRateLimiter.Create<string, string>(customer => settings.PermitsPerSecond <= 0
            ? RateLimitPartition.GetNoLimiter(customer)
            : RateLimitPartition.GetTokenBucketLimiter(customer, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(settings.Burst, 1),
                TokensPerPeriod = Math.Max(settings.PermitsPerSecond / 10, 1),
                // Refilled ten times a second, so a burst allowance is not all spent at the top of each second.
                ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    /// <summary>Takes one request from the customer's bucket; the 429 to answer (with <c>Retry-After</c> set) when it is empty.</summary>
    public IResult? Charge(HttpContext context, string customer)
    {
        using var lease = _limiter.AttemptAcquire(customer);
        if (lease.IsAcquired)
        {
            return null;
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        return Problems.RateLimited($"This customer is over its limit of {_options.PermitsPerSecond} requests per second; retry after {retryAfter} s.");
    }

    /// <summary>Takes one request from the customer's bucket (a socket <c>publish</c> counts like an API publish); false when it is empty.</summary>
    public bool TryTake(string customer)
    {
        using var lease = _limiter.AttemptAcquire(customer);
        return lease.IsAcquired;
    }

    /// <summary>The customer's sustained rate, for messages that name it.</summary>
    public int PermitsPerSecond => _options.PermitsPerSecond;

    public void Dispose() => _limiter.Dispose();
}

/// <summary>The per-customer request rate.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Sustained requests per second per customer, across all its endpoints on one gateway. Default 1,000; 0 = no limit.</summary>
    public int PermitsPerSecond { get; set; } = 1_000;

    /// <summary>Requests a quiet customer may send at once above the rate. Default 2,000.</summary>
    public int Burst { get; set; } = 2_000;
}

internal static class RateLimitHostingExtensions
{
    public static WebApplicationBuilder AddFabricRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimits.SectionName);
        builder.Services.AddSingleton<RateLimits>();
        return builder;
    }

    /// <summary>Charges the route's customer after authorization (endpoint filters run after it).</summary>
    public static TBuilder ChargeCustomerRate<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static (context, next) =>
            context.HttpContext.GetRouteValue("customer") is string customer
            && context.HttpContext.RequestServices.GetRequiredService<RateLimits>().Charge(context.HttpContext, customer) is { } limited
                ? ValueTask.FromResult<object?>(limited)
                : next(context));
}
