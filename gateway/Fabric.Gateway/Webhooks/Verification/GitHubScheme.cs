using System.Security.Cryptography;
using Fabric.Gateway.Events;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>GitHub: <c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c>, HMAC-SHA256 over the body keyed with the secret as UTF-8.</summary>
internal sealed class GitHubScheme : SignatureScheme
{
    private const string HeaderName = "X-Hub-Signature-256";

    public override string Name => "github";

    public override Verification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, SourceKeys keys, long nowUnixSeconds)
    {
        var value = Header(headers, HeaderName);
        if (value is null)
        {
            return Verification.Missing(HeaderName);
        }

        Span<byte> signature = stackalloc byte[32];
        if (!value.StartsWith("sha256=", StringComparison.Ordinal) || !Hmac.TryHex(value.AsSpan(7), signature, out var length))
        {
            return Verification.Invalid("The X-Hub-Signature-256 header must be sha256= followed by a hex HMAC.");
        }

        return Hmac.AnyMatches(HashAlgorithmName.SHA256, keys.Secrets, [], body, signature[..length]) ? Verification.Ok : Verification.NoMatch;
    }

    public override string? IdempotencyKey(IHeaderDictionary headers, in BodyFacts body) =>
        Header(headers, "X-GitHub-Delivery") ?? base.IdempotencyKey(headers, body);

    /// <summary><c>X-GitHub-Event</c>, plus <c>.{action}</c> when the body has one (<c>issues.opened</c>).</summary>
    public override string? EventType(IHeaderDictionary headers, in BodyFacts body) =>
        Header(headers, "X-GitHub-Event") is { } name ? (body.Action is { } action ? $"{name}.{action}" : name) : body.Type;
}
