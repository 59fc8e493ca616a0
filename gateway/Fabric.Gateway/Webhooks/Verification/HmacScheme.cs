using System.Security.Cryptography;
using Fabric.Gateway.Http;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>
/// A generic HMAC over the body for senders with no scheme of their own: the configured header carries an optional
/// prefix and the hex or base64 HMAC-SHA256 or -SHA512 keyed with the secret as UTF-8.
/// </summary>
internal sealed class HmacScheme : SignatureScheme
{
    public override string Name => "hmac";

    public override string? ValidateSettings(SourceSettings settings) => settings switch
    {
        { Header: null or "" } => "The hmac scheme needs \"header\": the header that carries the signature.",
        { Header: { } h } when h.Length > 100 || h.Any(c => c is <= ' ' or > '~' or ':') => "\"header\" must be a valid header name.",
        { Algorithm: not (null or "sha256" or "sha512") } => "\"algorithm\" must be sha256 or sha512.",
        { Encoding: not (null or "hex" or "base64") } => "\"encoding\" must be hex or base64.",
        { Prefix.Length: > 64 } => "\"prefix\" must be at most 64 characters.",
        _ => null,
    };

    public override Verification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, SourceKeys keys, long nowUnixSeconds)
    {
        var settings = keys.Settings;
        var algorithm = settings.Algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
        return Hmac.VerifyBodyHeader(Header(headers, settings.Header!), settings.Header!, settings.Prefix ?? "", settings.Encoding == "base64", algorithm, keys.Secrets, body);
    }

    public override string? EventType(IHeaderDictionary headers, in BodyFacts body) => Header(headers, "Fabric-Event-Type") ?? body.Type;
}
