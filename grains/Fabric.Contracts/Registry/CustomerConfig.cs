namespace Fabric.Contracts.Registry;

/// <summary>
/// A registered customer's configuration as gateways cache it: its webhook sources and API keys. Secrets are
/// encrypted by the gateway before they reach the grain (ASP.NET Core Data Protection); key secrets are only hashes.
/// </summary>
/// <param name="Id">The customer id.</param>
/// <param name="Name">Optional display name.</param>
/// <param name="Version">Increases with every change; gateways keep the newest they have seen.</param>
/// <param name="Created">When the customer was registered.</param>
/// <param name="Sources">Webhook sources by name.</param>
/// <param name="Keys">API keys by id.</param>
/// <param name="SigningKeys">Keys that sign the customer's socket connection tokens, by id (the JWT's <c>kid</c>).</param>
[GenerateSerializer, Immutable, Alias("fabric.CustomerConfig")]
public sealed record CustomerConfig(
    [property: Id(0)] string Id,
    [property: Id(1)] string? Name,
    [property: Id(2)] long Version,
    [property: Id(3)] DateTimeOffset Created,
    [property: Id(4)] IReadOnlyDictionary<string, SourceConfig> Sources,
    [property: Id(5)] IReadOnlyDictionary<string, ApiKeyRecord> Keys,
    [property: Id(6)] IReadOnlyDictionary<string, SigningKeyRecord>? SigningKeys = null);

/// <summary>A webhook source: how its deliveries are verified.</summary>
/// <param name="Name">The source name in <c>/v1/webhooks/{customer}/{source}</c>.</param>
/// <param name="Scheme">Verification scheme: <c>standard</c>, <c>stripe</c>, <c>github</c>, <c>shopify</c>, <c>slack</c>, <c>hmac</c> or <c>none</c>.</param>
/// <param name="ProtectedSecrets">The active secrets, each encrypted with Data Protection; any one may match.</param>
/// <param name="ToleranceSeconds">Allowed clock difference for schemes with a timestamp; null = the default (300 s).</param>
/// <param name="Header">For <c>hmac</c>: the header that carries the signature.</param>
/// <param name="Algorithm">For <c>hmac</c>: <c>sha256</c> or <c>sha512</c>.</param>
/// <param name="Encoding">For <c>hmac</c>: <c>hex</c> or <c>base64</c>.</param>
/// <param name="Prefix">For <c>hmac</c>: text before the signature in the header (e.g. <c>sha256=</c>).</param>
/// <param name="Updated">When the source was last written.</param>
[GenerateSerializer, Immutable, Alias("fabric.SourceConfig")]
public sealed record SourceConfig(
    [property: Id(0)] string Name,
    [property: Id(1)] string Scheme,
    [property: Id(2)] IReadOnlyList<string> ProtectedSecrets,
    [property: Id(3)] int? ToleranceSeconds,
    [property: Id(4)] string? Header,
    [property: Id(5)] string? Algorithm,
    [property: Id(6)] string? Encoding,
    [property: Id(7)] string? Prefix,
    [property: Id(8)] DateTimeOffset Updated);

/// <summary>An API key, stored as the SHA-256 of the whole key; the key itself is shown once, at creation.</summary>
/// <param name="Id">Public id (<c>key_…</c>), also part of the key.</param>
/// <param name="Scopes">What it may do: <c>publish</c>, <c>history</c>, <c>subscribe</c>.</param>
/// <param name="Hash">SHA-256 of the key's UTF-8 bytes.</param>
/// <param name="Created">When it was made.</param>
[GenerateSerializer, Immutable, Alias("fabric.ApiKeyRecord")]
public sealed record ApiKeyRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] IReadOnlyList<string> Scopes,
    [property: Id(2)] byte[] Hash,
    [property: Id(3)] DateTimeOffset Created);

/// <summary>
/// A key that signs connection tokens (HS256). The secret is encrypted by the gateway with Data Protection before it
/// reaches the grain (it must be read back to check signatures, unlike an API key's hash); it is shown once, at creation.
/// </summary>
/// <param name="Id">Public id (<c>sk_…</c>), the <c>kid</c> of the tokens it signs.</param>
/// <param name="ProtectedSecret">The secret, encrypted with Data Protection.</param>
/// <param name="Created">When it was made.</param>
[GenerateSerializer, Immutable, Alias("fabric.SigningKeyRecord")]
public sealed record SigningKeyRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string ProtectedSecret,
    [property: Id(2)] DateTimeOffset Created);
