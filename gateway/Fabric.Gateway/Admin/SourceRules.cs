using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Fabric.Gateway.Webhooks.Verification;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Fabric.Gateway.Admin;

/// <summary>What a source definition must satisfy before it is stored; each problem names the field, never a secret's value.</summary>
internal static class SourceRules
{
    public const int MaxToleranceSeconds = 86_400;

    /// <summary>
    /// Names Fabric records as the source of its own events: <c>api</c> (the publish API), <c>socket</c> (two-way
    /// sockets), and <c>fabric</c>, <c>admin</c>, <c>system</c> for what comes next. Idempotency keys are scoped by
    /// source, so a webhook source of one of these names could claim (or replay) keys of Fabric's own events. Compared
    /// case-insensitively, so <c>API</c> cannot pass for a different name either.
    /// </summary>
    public static readonly IReadOnlyList<string> ReservedNames = [BuiltInSources.Api, BuiltInSources.Socket, BuiltInSources.Fabric, "admin", "system"];

    public static bool IsReserved(string name) => ReservedNames.Contains(name, StringComparer.OrdinalIgnoreCase);

    public static ProblemHttpResult? Check(SourcePutRequest body)
    {
        if (SignatureSchemes.Find(body.Scheme) is not { } scheme)
        {
            return Problems.BadRequest("invalid-scheme", "\"scheme\" must be one of: " + string.Join(", ", SignatureSchemes.Names) + ".");
        }

        var secrets = body.Secrets ?? [];
        if (!scheme.NeedsSecrets && secrets.Count > 0)
        {
            return Problems.BadRequest("invalid-secret", "The none scheme takes no secrets.");
        }

        if (scheme.NeedsSecrets && secrets.Count == 0)
        {
            return Problems.BadRequest("invalid-secret", $"The {scheme.Name} scheme needs at least one secret in \"secrets\".");
        }

        if (secrets.Count > SignatureSchemes.MaxSecrets)
        {
            return Problems.BadRequest("invalid-secret", $"At most {SignatureSchemes.MaxSecrets} secrets may be active at once.");
        }

        for (var i = 0; i < secrets.Count; i++)
        {
            if (secrets[i] is null || scheme.DecodeSecret(secrets[i]) is null)
            {
                return Problems.BadRequest("invalid-secret", $"secrets[{i}] is not a valid {scheme.Name} secret. {Hint(scheme.Name)}");
            }
        }

        if (body.ToleranceSeconds is < 1 or > MaxToleranceSeconds)
        {
            return Problems.BadRequest("invalid-tolerance", $"\"toleranceSeconds\" must be between 1 and {MaxToleranceSeconds}.");
        }

        var settings = new SourceSettings(body.ToleranceSeconds, body.Header, body.Algorithm, body.Encoding, body.Prefix);
        return scheme.ValidateSettings(settings) is { } problem ? Problems.BadRequest("invalid-source-settings", problem) : null;
    }

    private static string Hint(string scheme) => scheme switch
    {
        "standard" => "Expected whsec_ followed by base64 of 24-64 bytes, or whpk_ followed by base64 of a 32-byte Ed25519 public key.",
        _ => "Expected 1-1024 characters.",
    };
}
