using System.Security.Cryptography;
using Fabric.Gateway.Http;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>GitHub: <c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c>, HMAC-SHA256 over the body keyed with the secret as UTF-8.</summary>
internal sealed class GitHubScheme : SignatureScheme
{
    private const string HeaderName = "X-Hub-Signature-256";

    public override string Name => "github";

    public override Verification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, SourceKeys keys, long nowUnixSeconds) =>
        Hmac.VerifyBodyHeader(Header(headers, HeaderName), HeaderName, "sha256=", base64: false, HashAlgorithmName.SHA256, keys.Secrets, body);

    public override string? IdempotencyKey(IHeaderDictionary headers, in BodyFacts body) =>
        Header(headers, "X-GitHub-Delivery") ?? base.IdempotencyKey(headers, body);

    /// <summary><c>X-GitHub-Event</c>, plus <c>.{action}</c> when the body has one (<c>issues.opened</c>).</summary>
    public override string? EventType(IHeaderDictionary headers, in BodyFacts body) =>
        Header(headers, "X-GitHub-Event") is { } name ? (body.Action is { } action ? $"{name}.{action}" : name) : body.Type;
}
