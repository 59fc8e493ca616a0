using Fabric.Hosting.Admin;
using Microsoft.AspNetCore.Authentication;

namespace Fabric.Gateway.Auth;

internal static class AuthHostingExtensions
{
    private const string SuppressAutoDefaultScheme = "Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme";

    /// <summary>Bearer admin and API keys (ASP.NET Core authentication) and the <c>admin</c>, <c>publish</c>, <c>history</c> policies.</summary>
    public static WebApplicationBuilder AddFabricAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddFabricAdminKeys();
        // No default scheme, not even the one ASP.NET Core picks when a single scheme exists (its documented opt-out):
        // each policy names the scheme, so a request is authenticated only where an endpoint asks for a policy.
        // Webhooks and sockets carry their own credentials (signatures, tickets, tokens); authenticating every webhook
        // against a bearer header it never has was a tenth of the request's allocations.
        AppContext.SetSwitch(SuppressAutoDefaultScheme, true);
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, FabricAuthenticationHandler>(FabricClaims.Scheme, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(FabricClaims.AdminPolicy, p => p.AddAuthenticationSchemes(FabricClaims.Scheme).AddRequirements(new AdminRequirement()))
            .AddPolicy(FabricClaims.PublishPolicy, p => p.AddAuthenticationSchemes(FabricClaims.Scheme).AddRequirements(new ScopeRequirement(ApiKeys.Publish)))
            .AddPolicy(FabricClaims.HistoryPolicy, p => p.AddAuthenticationSchemes(FabricClaims.Scheme).AddRequirements(new ScopeRequirement(ApiKeys.History)));
        return builder;
    }
}
