using System.Security.Cryptography;
using System.Text;
using Fabric.Gateway.Http;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>
/// Stripe: <c>Stripe-Signature: t=…,v1=…[,v1=…][,v0=…]</c>, hex HMAC-SHA256 over <c>{t}.{body}</c> keyed with the
/// secret string as UTF-8 (<c>whsec_</c> included, not decoded). Only <c>v1</c> entries count; any one may match.
/// </summary>
internal sealed class StripeScheme : SignatureScheme
{
    private const string HeaderName = "Stripe-Signature";

    public override string Name => "stripe";

    public override Verification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, SourceKeys keys, long nowUnixSeconds)
    {
        var value = Header(headers, HeaderName);
        if (value is null)
        {
            return Verification.Missing(HeaderName);
        }

        string? t = null;
        var v1 = new List<string>(2);
        foreach (var part in value.Split(','))
        {
            var pair = part.Trim();
            if (pair.StartsWith("t=", StringComparison.Ordinal))
            {
                t ??= pair[2..];
            }
            else if (pair.StartsWith("v1=", StringComparison.Ordinal))
            {
                v1.Add(pair[3..]);
            }
        }

        if (t is null)
        {
            return Verification.Invalid("The Stripe-Signature header has no timestamp (t=).");
        }

        if (v1.Count == 0)
        {
            return Verification.Invalid("The Stripe-Signature header has no v1 signature.");
        }

        if (CheckTimestamp(t, HeaderName, nowUnixSeconds, keys.Settings.Tolerance, out var timestamp) is { } bad)
        {
            return bad;
        }

        var prefix = Encoding.UTF8.GetBytes($"{timestamp}.");
        Span<byte> signature = stackalloc byte[32];
        foreach (var hex in v1)
        {
            if (Hmac.TryHex(hex, signature, out var length) && Hmac.AnyMatches(HashAlgorithmName.SHA256, keys.Secrets, prefix, body, signature[..length]))
            {
                return Verification.Ok;
            }
        }

        return Verification.NoMatch;
    }

    /// <summary>The Stripe event id in the body (<c>evt_…</c>): the same across Stripe's retries.</summary>
    public override string? IdempotencyKey(IHeaderDictionary headers, in BodyFacts body) => body.Id ?? base.IdempotencyKey(headers, body);
}
