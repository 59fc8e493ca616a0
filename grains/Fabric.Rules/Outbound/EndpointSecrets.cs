using System.Security.Cryptography;

namespace Fabric.Rules.Outbound;

/// <summary>
/// What an endpoint's signing secret looks like and how it is kept: the gateway makes and encrypts it when an endpoint
/// is created or rotated, the endpoint grain decrypts it to sign (Standard Webhooks).
/// </summary>
public static class EndpointSecrets
{
    public const string Prefix = "whsec_";

    /// <summary>The Data Protection purpose endpoint secrets are kept under.</summary>
    public const string ProtectionPurpose = "Fabric.EndpointSecrets.v1";

    /// <summary>A new secret: <c>whsec_</c> + 32 random bytes in base64 (Standard Webhooks asks for 24 to 64).</summary>
    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
