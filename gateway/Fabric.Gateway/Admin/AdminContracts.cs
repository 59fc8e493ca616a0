namespace Fabric.Gateway.Admin;

/// <summary><c>PUT /v1/admin/customers/{customer}</c> body.</summary>
public sealed record CustomerPutRequest(string? Name);

/// <summary>A customer as the admin API shows it: never a secret, never a key.</summary>
public sealed record CustomerView(
    string Id, string? Name, DateTimeOffset Created, long Version, IReadOnlyList<SourceView> Sources, IReadOnlyList<KeyView> Keys, IReadOnlyList<SigningKeyView> SigningKeys);

/// <summary>A source as the admin API shows it: how many secrets are active, not what they are.</summary>
public sealed record SourceView(
    string Name, string Scheme, int Secrets, int? ToleranceSeconds, string? Header, string? Algorithm, string? Encoding, string? Prefix, DateTimeOffset Updated);

/// <summary>An API key as the admin API shows it after creation.</summary>
public sealed record KeyView(string Id, IReadOnlyList<string> Scopes, DateTimeOffset Created);

/// <summary>One page of <c>GET /v1/admin/customers</c>; pass <c>next</c> as <c>after</c> for the following page.</summary>
public sealed record CustomerList(IReadOnlyList<CustomerSummary> Customers, string? Next);

/// <summary>A customer in the list.</summary>
public sealed record CustomerSummary(string Id, string? Name, DateTimeOffset Created);

/// <summary>
/// <c>PUT /v1/admin/customers/{customer}/sources/{source}</c> body. <c>secrets</c> replaces the active list (the
/// rotation step: put old and new, later only new). <c>hmac</c> also takes <c>header</c>, <c>algorithm</c>
/// (sha256, sha512), <c>encoding</c> (hex, base64) and <c>prefix</c>.
/// </summary>
public sealed record SourcePutRequest(
    string? Scheme, IReadOnlyList<string>? Secrets, int? ToleranceSeconds, string? Header, string? Algorithm, string? Encoding, string? Prefix);

/// <summary><c>POST /v1/admin/customers/{customer}/keys</c> body.</summary>
public sealed record KeyCreateRequest(IReadOnlyList<string>? Scopes);

/// <summary>The one answer that carries a key; it is not stored and cannot be shown again.</summary>
public sealed record KeyCreated(string Id, string Key, IReadOnlyList<string> Scopes);

/// <summary>A token signing key as the admin API shows it after creation: never its secret.</summary>
public sealed record SigningKeyView(string Id, DateTimeOffset Created);

/// <summary>
/// <c>POST /v1/admin/customers/{customer}/signing-keys</c>: the one answer that carries the secret. Sign connection
/// tokens with HS256 over its UTF-8 bytes, with <c>kid</c> = <c>id</c>.
/// </summary>
public sealed record SigningKeyCreated(string Id, string Secret, DateTimeOffset Created);

/// <summary><c>GET /v1/admin/customers/{customer}/sessions</c>.</summary>
public sealed record SessionList(IReadOnlyList<SessionView> Sessions);

/// <summary>A socket session: its id, user, gateway, when it connected and what it holds.</summary>
public sealed record SessionView(string Session, string Sub, string Gateway, DateTimeOffset ConnectedAt, IReadOnlyList<string> Topics);
