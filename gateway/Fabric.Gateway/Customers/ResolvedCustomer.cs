using Fabric.Contracts.Registry;
using Fabric.Gateway.Webhooks.Verification;
using Microsoft.IdentityModel.Tokens;

namespace Fabric.Gateway.Customers;

/// <summary>A customer's configuration as a gateway uses it: secrets decrypted and decoded once, not per request.</summary>
internal sealed class ResolvedCustomer(
    CustomerConfig config, IReadOnlyDictionary<string, ResolvedSource> sources, IReadOnlyDictionary<string, SymmetricSecurityKey>? signingKeys = null)
{
    public CustomerConfig Config => config;

    public string Id => config.Id;

    public ResolvedSource? Source(string name) => sources.GetValueOrDefault(name);

    /// <summary>A connection-token signing key, by its id (the token's <c>kid</c>); made once per cached configuration.</summary>
    public SymmetricSecurityKey? SigningKey(string id) => signingKeys?.GetValueOrDefault(id);
}

/// <summary>A webhook source ready to verify: its scheme and key material.</summary>
internal sealed record ResolvedSource(string Name, SignatureScheme Scheme, SourceKeys Keys);
