using Fabric.Gateway.Http;

namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>
/// One provider's rules: how its signature is checked over the raw body, and where its idempotency key and event type
/// are. One instance per scheme, stateless; a source's secrets come in as a <see cref="SourceKeys"/>.
/// </summary>
internal abstract class SignatureScheme
{
    /// <summary>Default allowed clock difference, both directions (the reference libraries' 5 minutes).</summary>
    public const int DefaultToleranceSeconds = 300;

    /// <summary>The scheme name in the admin API (part of the contract).</summary>
    public abstract string Name { get; }

    /// <summary>Whether a source of this scheme must have at least one secret.</summary>
    public virtual bool NeedsSecrets => true;

    /// <summary>Turns one secret as an admin supplied it into key material; null when it is malformed.</summary>
    public virtual byte[]? DecodeSecret(string secret) =>
        secret.Length is > 0 and <= 1024 ? System.Text.Encoding.UTF8.GetBytes(secret) : null;

    /// <summary>A problem with a source's settings (as opposed to its secrets), or null.</summary>
    public virtual string? ValidateSettings(SourceSettings settings) => null;

    /// <summary>Checks the request's signature against every active key; any one match passes.</summary>
    public abstract Verification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, SourceKeys keys, long nowUnixSeconds);

    /// <summary>The provider's delivery id, if the request carries one.</summary>
    public virtual string? IdempotencyKey(IHeaderDictionary headers, in BodyFacts body) => Header(headers, "Idempotency-Key");

    /// <summary>The event type the provider names, if any.</summary>
    public virtual string? EventType(IHeaderDictionary headers, in BodyFacts body) => body.Type;

    /// <summary>
    /// Whether binary-mode CloudEvents may come in: they take the event's type and id from ce-* headers, which no
    /// signature covers, so on a signed source a replayed delivery could pass as a new event.
    /// </summary>
    public virtual bool AllowsBinaryCloudEvents => false;

    /// <summary>The answer to a provider checking a new URL (answered, never stored); null for a delivery.</summary>
    public virtual string? Challenge(in BodyFacts body) => null;

    protected static string? Header(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var value) && value.Count == 1 && !string.IsNullOrEmpty(value[0]) ? value[0] : null;

    /// <summary>
    /// A timestamp header's check: present, an integer, and within the tolerance either way. Null when it passes.
    /// </summary>
    protected static Verification? CheckTimestamp(string? value, string header, long now, int tolerance, out long timestamp)
    {
        timestamp = 0;
        if (value is null)
        {
            return Verification.Missing(header);
        }

        if (!long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out timestamp))
        {
            return Verification.Invalid($"The {header} timestamp is not a Unix time in seconds.");
        }

        if (timestamp < now - tolerance)
        {
            return Verification.OutOfTolerance($"The timestamp is more than {tolerance} seconds in the past; the request may be a replay.");
        }

        if (timestamp > now + tolerance)
        {
            return Verification.OutOfTolerance($"The timestamp is more than {tolerance} seconds in the future; check the sender's clock.");
        }

        return null;
    }
}

/// <summary>The outcome of a check: passed, or the problem code and a detail that never reveals an expected value.</summary>
internal readonly record struct Verification(string? Problem, string? Detail)
{
    public static Verification Ok => default;

    public bool Passed => Problem is null;

    public static Verification Missing(string header) => new("missing-signature", $"The {header} header is missing.");

    public static Verification Invalid(string detail) => new("invalid-signature", detail);

    public static Verification NoMatch => new("invalid-signature", "No signature matched any active secret of this source.");

    public static Verification OutOfTolerance(string detail) => new("timestamp-out-of-tolerance", detail);
}

/// <summary>A source's settings beside its secrets (the per-scheme fields of the admin API).</summary>
internal sealed record SourceSettings(int? ToleranceSeconds, string? Header, string? Algorithm, string? Encoding, string? Prefix)
{
    public int Tolerance => ToleranceSeconds ?? SignatureScheme.DefaultToleranceSeconds;
}

/// <summary>A source's decoded secrets and settings, built once per cached configuration.</summary>
internal sealed record SourceKeys(IReadOnlyList<byte[]> Secrets, SourceSettings Settings)
{
    private object? _prepared;

    /// <summary>
    /// Key material a scheme derives from the secrets (split by kind, imported keys), made on first use and then
    /// reused by every request this cached configuration verifies. A race makes it twice, harmlessly.
    /// </summary>
    public T Prepared<T>(Func<IReadOnlyList<byte[]>, T> prepare) where T : class =>
        _prepared as T ?? (T)(_prepared = prepare(Secrets));
}
