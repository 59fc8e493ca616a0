using Fabric.Hosting.Admin;
using Microsoft.AspNetCore.Authentication;

namespace Fabric.Gateway.Auth;

internal static class AuthHostingExtensions
{
    /// <summary>Bearer admin and API keys (ASP.NET Core authentication) and the <c>admin</c>, <c>publish</c>, <c>history</c> policies.</summary>
    public static WebApplicationBuilder AddFabricAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddFabricAdminKeys();
        builder.Services.AddAuthentication(FabricClaims.Scheme)
            .AddScheme<AuthenticationSchemeOptions, FabricAuthenticationHandler>(FabricClaims.Scheme, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(FabricClaims.AdminPolicy, p => p.AddRequirements(new AdminRequirement()))
            .AddPolicy(FabricClaims.PublishPolicy, p => p.AddRequirements(new ScopeRequirement(ApiKeys.Publish)))
            .AddPolicy(FabricClaims.HistoryPolicy, p => p.AddRequirements(new ScopeRequirement(ApiKeys.History)));
        return builder;
    }
}
