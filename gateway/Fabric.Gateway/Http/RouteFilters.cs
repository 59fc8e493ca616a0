
namespace Fabric.Gateway.Http;

/// <summary>Policies every route group applies once instead of each handler repeating them.</summary>
internal static class RouteFilters
{
    /// <summary>A <c>{customer}</c> route value that is not a valid id is refused with 400 before any handler runs.</summary>
    public static TBuilder ValidateCustomerId<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static (context, next) =>
            context.HttpContext.GetRouteValue("customer") is string customer && !InputRules.IsValidId(customer)
                ? ValueTask.FromResult<object?>(Problems.InvalidCustomer())
                : next(context));

    /// <summary>A grain call the cluster could not answer becomes a 503 "retry", never a 500.</summary>
    public static TBuilder MapClusterFailures<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Exception ex) when (ClusterFailure.Is(ex))
            {
                return Problems.Unavailable("The cluster could not answer right now; retry.");
            }
        });
}
