using System.Security.Cryptography;

namespace Fabric.Gateway.Customers;

/// <summary>
/// Keys that sign a customer's connection tokens. The secret is a string of 43 URL-safe characters (256 random bits);
/// the HMAC key is its UTF-8 bytes, so any JWT library signs with it as given.
/// </summary>
internal static class SigningKeys
{
    public const string IdPrefix = "sk_";

    /// <summary>The shortest secret a seed may configure: 32 bytes, HS256's own key size.</summary>
    public const int MinSecretLength = 32;

    public static (string Id, string Secret) Create() =>
        (IdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), Base64Url(RandomNumberGenerator.GetBytes(32)));

    /// <summary><c>sk_</c> followed by 1-32 lowercase hex digits or letters.</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 3 and <= 35 } && id.StartsWith(IdPrefix, StringComparison.Ordinal) && id[3..].All(char.IsAsciiLetterOrDigit);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
