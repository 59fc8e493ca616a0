using System.Buffers;
using System.Security.Cryptography;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>HMAC over a prefix and the raw body without copying the body, and constant-time matching.</summary>
internal static class Hmac
{
    /// <summary>
    /// One header holding an optional prefix and the hex or base64 HMAC of the body alone: GitHub, Shopify and the
    /// generic <c>hmac</c> scheme are each this check with their own header, prefix, encoding and algorithm.
    /// </summary>
    public static Verification VerifyBodyHeader(
        string? value, string header, string prefix, bool base64, HashAlgorithmName algorithm, IReadOnlyList<byte[]> keys, ReadOnlySpan<byte> body)
    {
        if (value is null)
        {
            return Verification.Missing(header);
        }

        Span<byte> signature = stackalloc byte[96];
        var encoded = value.AsSpan();
        var length = 0;
        var decoded = encoded.StartsWith(prefix, StringComparison.Ordinal)
            && (base64 ? TryBase64(encoded[prefix.Length..], signature, out length) : TryHex(encoded[prefix.Length..], signature, out length));
        if (!decoded)
        {
            var shape = (prefix.Length > 0 ? prefix + " followed by " : "") + (base64 ? "a base64 HMAC" : "a hex HMAC");
            return Verification.Invalid($"The {header} header must be {shape}.");
        }

        return AnyMatches(algorithm, keys, [], body, signature[..length]) ? Verification.Ok : Verification.NoMatch;
    }

    /// <summary>True when <paramref name="expected"/> equals the HMAC of prefix‖body under any of the keys.</summary>
    public static bool AnyMatches(HashAlgorithmName algorithm, IReadOnlyList<byte[]> keys, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body, ReadOnlySpan<byte> expected)
    {
        Span<byte> mac = stackalloc byte[64];
        var size = algorithm == HashAlgorithmName.SHA512 ? 64 : 32;
        if (expected.Length != size)
        {
            return false;
        }

        var matched = false;
        foreach (var key in keys)
        {
            Compute(algorithm, key, prefix, body, mac[..size]);
            // Every key is tried, so the time taken does not tell which one (or whether any) matched.
            matched |= CryptographicOperations.FixedTimeEquals(mac[..size], expected);
        }

        return matched;
    }

    public static void Compute(HashAlgorithmName algorithm, byte[] key, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        if (prefix.IsEmpty)
        {
            Hash(algorithm, key, body, destination);
            return;
        }

        // One contiguous buffer is several times faster than an IncrementalHash for the small bodies webhooks carry.
        var buffer = ArrayPool<byte>.Shared.Rent(prefix.Length + body.Length);
        try
        {
            prefix.CopyTo(buffer);
            body.CopyTo(buffer.AsSpan(prefix.Length));
            Hash(algorithm, key, buffer.AsSpan(0, prefix.Length + body.Length), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Hash(HashAlgorithmName algorithm, byte[] key, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (algorithm == HashAlgorithmName.SHA512)
        {
            HMACSHA512.HashData(key, data, destination);
        }
        else
        {
            HMACSHA256.HashData(key, data, destination);
        }
    }

    /// <summary>Decodes lowercase or uppercase hex into <paramref name="destination"/>; false when it is not hex of that size.</summary>
    public static bool TryHex(ReadOnlySpan<char> hex, Span<byte> destination, out int written)
    {
        written = 0;
        if (hex.Length % 2 != 0 || hex.Length / 2 > destination.Length)
        {
            return false;
        }

        return Convert.FromHexString(hex, destination, out _, out written) == OperationStatus.Done;
    }

    public static bool TryBase64(ReadOnlySpan<char> text, Span<byte> destination, out int written) =>
        Convert.TryFromBase64Chars(text, destination, out written);
}
