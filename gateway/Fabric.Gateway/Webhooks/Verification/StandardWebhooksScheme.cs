using System.Security.Cryptography;
using System.Text;
using Fabric.Gateway.Http;
using NSec.Cryptography;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>
/// Standard Webhooks (and Svix, whose <c>svix-*</c> headers are the same scheme): <c>v1,</c> base64 HMAC-SHA256 over
/// <c>{id}.{timestamp}.{body}</c> keyed with the base64 after <c>whsec_</c>, or <c>v1a,</c> Ed25519 with a
/// <c>whpk_</c> public key. The signature header is a space-separated list; any entry that matches passes.
/// </summary>
internal sealed class StandardWebhooksScheme : SignatureScheme
{
    // Key material starts with a marker byte, so one source can hold HMAC and Ed25519 secrets side by side.
    private const byte HmacKey = 1;
    private const byte PublicKey = 2;

    public override string Name => "standard";

    public override byte[]? DecodeSecret(string secret)
    {
        var (marker, encoded, min, max) = secret switch
        {
            _ when secret.StartsWith("whsec_", StringComparison.Ordinal) => (HmacKey, secret[6..], 24, 64),
            _ when secret.StartsWith("whpk_", StringComparison.Ordinal) => (PublicKey, secret[5..], 32, 32),
            _ => ((byte)0, "", 0, 0),
        };
        Span<byte> decoded = stackalloc byte[96];
        if (marker == 0 || !Convert.TryFromBase64String(encoded, decoded, out var length) || length < min || length > max)
        {
            return null;
        }

        if (marker == PublicKey && !NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, decoded[..length], KeyBlobFormat.RawPublicKey, out _))
        {
            return null;
        }

        return [marker, .. decoded[..length]];
    }

    public override Verification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, SourceKeys keys, long nowUnixSeconds)
    {
        var (idName, timeName, signatureName) = headers.ContainsKey("webhook-id") || !headers.ContainsKey("svix-id")
            ? ("webhook-id", "webhook-timestamp", "webhook-signature")
            : ("svix-id", "svix-timestamp", "svix-signature");
        var id = Header(headers, idName);
        if (id is null)
        {
            return Verification.Missing(idName);
        }

        var signatures = Header(headers, signatureName);
        if (signatures is null)
        {
            return Verification.Missing(signatureName);
        }

        if (CheckTimestamp(Header(headers, timeName), timeName, nowUnixSeconds, keys.Settings.Tolerance, out var timestamp) is { } bad)
        {
            return bad;
        }

        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var prepared = keys.Prepared(Prepare);
        Span<byte> signature = stackalloc byte[64];
        foreach (var range in signatures.AsSpan().Split(' '))
        {
            var entry = signatures.AsSpan()[range];
            if (entry.StartsWith("v1,") && Hmac.TryBase64(entry[3..], signature, out var macLength))
            {
                if (Hmac.AnyMatches(HashAlgorithmName.SHA256, prepared.Hmac, prefix, body, signature[..macLength]))
                {
                    return Verification.Ok;
                }
            }
            else if (entry.StartsWith("v1a,") && Hmac.TryBase64(entry[4..], signature, out var sigLength) && sigLength == 64
                && VerifiesEd25519(prepared.PublicKeys, prefix, body, signature[..sigLength]))
            {
                return Verification.Ok;
            }
        }

        return Verification.NoMatch;
    }

    public override string? IdempotencyKey(IHeaderDictionary headers, in BodyFacts body) =>
        Header(headers, "webhook-id") ?? Header(headers, "svix-id") ?? base.IdempotencyKey(headers, body);

    /// <summary>The HMAC keys and the imported Ed25519 public keys, split once per cached configuration.</summary>
    private sealed record Keys(byte[][] Hmac, NSec.Cryptography.PublicKey[] PublicKeys);

    private static Keys Prepare(IReadOnlyList<byte[]> secrets)
    {
        var publicKeys = new List<NSec.Cryptography.PublicKey>();
        foreach (var secret in secrets.Where(k => k[0] == PublicKey))
        {
            if (NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, secret.AsSpan(1), KeyBlobFormat.RawPublicKey, out var key) && key is not null)
            {
                publicKeys.Add(key);
            }
        }

        return new Keys([.. secrets.Where(k => k[0] == HmacKey).Select(k => k[1..])], [.. publicKeys]);
    }

    private static bool VerifiesEd25519(NSec.Cryptography.PublicKey[] publicKeys, byte[] prefix, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature)
    {
        if (publicKeys.Length == 0)
        {
            return false;
        }

        byte[] signed = [.. prefix, .. body];
        var matched = false;
        foreach (var key in publicKeys)
        {
            matched |= SignatureAlgorithm.Ed25519.Verify(key, signed, signature);
        }

        return matched;
    }
}
