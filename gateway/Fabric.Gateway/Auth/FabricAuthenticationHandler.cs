using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;
using Fabric.Hosting.Admin;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>: an admin key from configuration, or a customer's API key confirmed against
/// the cached configuration of the customer it names. Challenges and refusals are problem+json.
/// </summary>
internal sealed class FabricAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AdminKeys adminKeys, CustomerDirectory directory) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string UnavailableItem = "fabric:auth-unavailable";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count == 0)
        {
            return AuthenticateResult.NoResult();
        }

        var value = header.Count == 1 ? header[0] : null;
        if (value is null || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || value.Length > 512)
        {
            return AuthenticateResult.Fail("malformed authorization");
        }

        var token = value[7..].Trim();
        if (adminKeys.Matches(token))
        {
            return Success([new Claim(FabricClaims.Admin, "true")]);
        }

        if (!ApiKeys.TryParse(token, out var owner, out var keyId) || !InputRules.IsValidId(owner))
        {
            return AuthenticateResult.Fail("unknown key");
        }

        ResolvedCustomer? customer;
        try
        {
            customer = await directory.GetAsync(owner);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            // The key cannot be confirmed right now: the challenge answers 503 "retry", not 401 "bad key".
            Context.Items[UnavailableItem] = true;
            return AuthenticateResult.Fail("registry unavailable");
        }

        if (customer?.Config.Keys.GetValueOrDefault(keyId) is not { } key
            || !CryptographicOperations.FixedTimeEquals(ApiKeys.Hash(token), key.Hash))
        {
            return AuthenticateResult.Fail("unknown key");
        }

        return Success([new Claim(FabricClaims.Customer, owner), .. key.Scopes.Select(s => new Claim(FabricClaims.Scope, s))]);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.ContainsKey(UnavailableItem))
        {
            return Problems.Unavailable("The key could not be checked right now; retry.").ExecuteAsync(Context);
        }

        Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Unauthorized().ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => Problems.Forbidden().ExecuteAsync(Context);

    private static AuthenticateResult Success(IEnumerable<Claim> claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, FabricClaims.Scheme)), FabricClaims.Scheme));
}
