using System.Security.Cryptography;
using System.Text;
using Fabric.Gateway.Http;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>
/// Slack: <c>X-Slack-Signature: v0=&lt;hex&gt;</c> over <c>v0:{timestamp}:{body}</c> with <c>X-Slack-Request-Timestamp</c>,
/// keyed with the signing secret as UTF-8. A signed <c>url_verification</c> is answered by the endpoint, not stored.
/// </summary>
internal sealed class SlackScheme : SignatureScheme
{
    private const string SignatureHeader = "X-Slack-Signature";
    private const string TimestampHeader = "X-Slack-Request-Timestamp";

    public override string Name => "slack";

    public override Verification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, SourceKeys keys, long nowUnixSeconds)
    {
        var value = Header(headers, SignatureHeader);
        if (value is null)
        {
            return Verification.Missing(SignatureHeader);
        }

        if (CheckTimestamp(Header(headers, TimestampHeader), TimestampHeader, nowUnixSeconds, keys.Settings.Tolerance, out var timestamp) is { } bad)
        {
            return bad;
        }

        Span<byte> signature = stackalloc byte[32];
        if (!value.StartsWith("v0=", StringComparison.Ordinal) || !Hmac.TryHex(value.AsSpan(3), signature, out var length))
        {
            return Verification.Invalid("The X-Slack-Signature header must be v0= followed by a hex HMAC.");
        }

        var prefix = Encoding.UTF8.GetBytes($"v0:{timestamp}:");
        return Hmac.AnyMatches(HashAlgorithmName.SHA256, keys.Secrets, prefix, body, signature[..length]) ? Verification.Ok : Verification.NoMatch;
    }

    /// <summary>The Events API's <c>event_id</c>: the same across Slack's retries.</summary>
    public override string? IdempotencyKey(IHeaderDictionary headers, in BodyFacts body) => body.EventId ?? base.IdempotencyKey(headers, body);

    /// <summary><c>event.type</c> for Events API callbacks, else the body's <c>type</c>.</summary>
    public override string? EventType(IHeaderDictionary headers, in BodyFacts body) => body.InnerEventType ?? body.Type;

    /// <summary>Slack checks a new Events API URL with a signed <c>url_verification</c> challenge.</summary>
    public override string? Challenge(in BodyFacts body) => body.Type == "url_verification" ? body.Challenge : null;
}
