using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Fabric.Rules.Outbound;

namespace Fabric.Outbound.Delivery;

/// <summary>
/// The Standard Webhooks signature (standardwebhooks.com): <c>v1,</c> + base64 HMAC-SHA256 over
/// <c>{webhook-id}.{webhook-timestamp}.{body}</c>, keyed with the base64 bytes after <c>whsec_</c>; one entry per active
/// secret, space-separated, so a receiver holding either secret verifies during a rotation.
/// </summary>
public static class StandardWebhooks
{
    // "." + a long's longest decimal form (20 characters) + ".": the signed content's prefix beside the id.
    private const int TimestampAndDotsBytes = 22;

    // "v1," + a SHA-256 MAC in base64 (44 characters) + the space before the next one.
    private const int SignatureChars = 48;

    /// <summary>The <c>webhook-signature</c> header for these secrets.</summary>
    public static string Sign(IReadOnlyList<string> secrets, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(id);
        // The signed content and the header's characters in rented buffers: a delivery is signed on every attempt,
        // for every endpoint.
        var length = Encoding.UTF8.GetMaxByteCount(id.Length) + TimestampAndDotsBytes + body.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        var chars = ArrayPool<char>.Shared.Rent(Math.Max(1, secrets.Count) * SignatureChars);
        try
        {
            if (!Utf8.TryWrite(rented, CultureInfo.InvariantCulture, $"{id}.{timestamp}.", out var prefix))
            {
                throw new InvalidOperationException("The signed prefix did not fit its buffer.");
            }

            body.CopyTo(rented.AsSpan(prefix));
            var signed = rented.AsSpan(0, prefix + body.Length);
            Span<byte> key = stackalloc byte[128];
            Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
            var written = 0;
            foreach (var secret in secrets)
            {
                var encoded = secret.StartsWith(EndpointSecrets.Prefix, StringComparison.Ordinal) ? secret.AsSpan(EndpointSecrets.Prefix.Length) : secret.AsSpan();
                // A key longer than the stack buffer (the spec allows up to 64 bytes) is decoded on the heap.
                var keyBytes = Convert.TryFromBase64Chars(encoded, key, out var keyLength) ? key[..keyLength] : Convert.FromBase64String(encoded.ToString());
                HMACSHA256.HashData(keyBytes, signed, mac);
                if (written > 0)
                {
                    chars[written++] = ' ';
                }

                "v1,".CopyTo(chars.AsSpan(written));
                written += 3;
                Convert.TryToBase64Chars(mac, chars.AsSpan(written), out var macChars);
                written += macChars;
            }

            return new string(chars, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
