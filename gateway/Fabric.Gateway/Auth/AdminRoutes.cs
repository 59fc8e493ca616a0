using Fabric.Gateway.Http;

namespace Fabric.Gateway.Auth;

/// <summary>The preamble every admin route group shares.</summary>
internal static class AdminRoutes
{
    /// <summary>
    /// A group under <paramref name="prefix"/> for the admin key only: a bad <c>{customer}</c> is a 400 before any
    /// handler runs, an unreachable cluster a 503, and it is listed in OpenAPI under <paramref name="tag"/>.
    /// </summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder app, string prefix, string tag) =>
        app.MapGroup(prefix)
            .RequireAuthorization(FabricClaims.AdminPolicy)
            .ValidateCustomerId()
            .MapClusterFailures()
            .WithTags(tag)
            .DisableAntiforgery();
}
