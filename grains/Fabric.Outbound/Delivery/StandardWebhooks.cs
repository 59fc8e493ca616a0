using System.Security.Cryptography;
using System.Text;

namespace Fabric.Outbound.Delivery;

/// <summary>
/// The Standard Webhooks signature (standardwebhooks.com): <c>v1,</c> + base64 HMAC-SHA256 over
/// <c>{webhook-id}.{webhook-timestamp}.{body}</c>, keyed with the base64 bytes after <c>whsec_</c>; one entry per active
/// secret, space-separated, so a receiver holding either secret verifies during a rotation.
/// </summary>
public static class StandardWebhooks
{
    public const string SecretPrefix = "whsec_";

    /// <summary>The Data Protection purpose endpoint secrets are kept under: the gateway encrypts, the endpoint grain decrypts.</summary>
    public const string ProtectionPurpose = "Fabric.EndpointSecrets.v1";

    /// <summary>A new secret: <c>whsec_</c> + 32 random bytes in base64 (the spec asks for 24 to 64).</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The <c>webhook-signature</c> header for these secrets.</summary>
    public static string Sign(IEnumerable<string> secrets, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        var header = new StringBuilder();
        foreach (var secret in secrets)
        {
            var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
            if (header.Length > 0)
            {
                header.Append(' ');
            }

            header.Append("v1,").Append(Convert.ToBase64String(HMACSHA256.HashData(key, signed)));
        }

        return header.ToString();
    }
}
