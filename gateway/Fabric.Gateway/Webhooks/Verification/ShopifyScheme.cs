using System.Security.Cryptography;
using Fabric.Gateway.Http;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>
/// Shopify: <c>X-Shopify-Hmac-Sha256</c> (or the Events product's <c>Shopify-Hmac-Sha256</c>), base64 HMAC-SHA256
/// over the body keyed with the app's client secret as UTF-8.
/// </summary>
internal sealed class ShopifyScheme : SignatureScheme
{
    private const string HeaderName = "X-Shopify-Hmac-Sha256";

    public override string Name => "shopify";

    public override Verification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, SourceKeys keys, long nowUnixSeconds) =>
        Hmac.VerifyBodyHeader(Header(headers, HeaderName) ?? Header(headers, "Shopify-Hmac-Sha256"), HeaderName, "", base64: true, HashAlgorithmName.SHA256, keys.Secrets, body);

    public override string? IdempotencyKey(IHeaderDictionary headers, in BodyFacts body) =>
        Header(headers, "X-Shopify-Webhook-Id") ?? Header(headers, "Shopify-Webhook-Id") ?? base.IdempotencyKey(headers, body);

    public override string? EventType(IHeaderDictionary headers, in BodyFacts body) =>
        Header(headers, "X-Shopify-Topic") ?? Header(headers, "Shopify-Topic") ?? body.Type;
}
