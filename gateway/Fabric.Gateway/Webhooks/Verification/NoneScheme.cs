using Fabric.Gateway.Http;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>No verification: anyone who knows the URL can post. Must be chosen explicitly for a source.</summary>
internal sealed class NoneScheme : SignatureScheme
{
    public override string Name => "none";

    public override bool NeedsSecrets => false;

    public override bool AllowsBinaryCloudEvents => true;

    public override Verification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, SourceKeys keys, long nowUnixSeconds) => Verification.Ok;

    public override string? EventType(IHeaderDictionary headers, in BodyFacts body) => Header(headers, "Fabric-Event-Type") ?? body.Type;
}
