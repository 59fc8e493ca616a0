using Microsoft.AspNetCore.Authorization;

namespace Fabric.Gateway.Auth;

/// <summary>
/// Met by an admin key, or by an API key of the customer named in the route that has <see cref="Scope"/>; any other
/// authenticated key is refused with 403 whether or not that customer exists.
/// </summary>
internal sealed class ScopeRequirement(string scope) : AuthorizationHandler<ScopeRequirement>, IAuthorizationRequirement
{
    public string Scope => scope;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        var user = context.User;
        if (user.HasClaim(FabricClaims.Admin, "true"))
        {
            context.Succeed(requirement);
        }
        else if (context.Resource is HttpContext http && http.GetRouteValue("customer") is string customer
            && user.HasClaim(FabricClaims.Customer, customer) && user.HasClaim(FabricClaims.Scope, requirement.Scope))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Met by an admin key only.</summary>
internal sealed class AdminRequirement : AuthorizationHandler<AdminRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminRequirement requirement)
    {
        if (context.User.HasClaim(FabricClaims.Admin, "true"))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
