using System.Security.Cryptography;
using System.Text;

namespace Fabric.Gateway.Auth;

/// <summary>
/// API keys look like <c>fab~{customer}~{keyId}~{secret}</c>. Naming the owner lets a gateway find the one customer's
/// configuration that can confirm the key (no global index), and tell "not a key" (401) from "a key, but not for
/// this customer" (403) without ever revealing whether the customer in the path exists. <c>~</c> is outside the
/// customer-id alphabet and inside the bearer-token one. Only the SHA-256 of the key is stored: the secret is 32
/// random bytes, so a fast hash is enough (as for GitHub's and Stripe's tokens).
/// </summary>
internal static class ApiKeys
{
    public const string Prefix = "fab~";

    public const string Publish = "publish";
    public const string History = "history";
    public const string Subscribe = "subscribe";

    /// <summary>Every scope a key may have.</summary>
    public static readonly string[] Scopes = [Publish, History, Subscribe];

    /// <summary>Makes a new key for a customer: its id, the key to show once, and the hash to store.</summary>
    public static (string Id, string Key, byte[] Hash) Create(string customer)
    {
        var id = "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var key = $"{Prefix}{customer}~{id}~{Base64Url(RandomNumberGenerator.GetBytes(32))}";
        return (id, key, Hash(key));
    }

    /// <summary>Reads the owner and key id out of a presented key; false when it does not have the key's shape.</summary>
    public static bool TryParse(string token, out string customer, out string keyId)
    {
        customer = keyId = "";
        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = token.Split('~');
        if (parts.Length != 4 || parts[1].Length == 0 || !parts[2].StartsWith("key_", StringComparison.Ordinal) || parts[3].Length == 0)
        {
            return false;
        }

        (customer, keyId) = (parts[1], parts[2]);
        return true;
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
