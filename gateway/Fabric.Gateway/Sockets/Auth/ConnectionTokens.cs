using System.Text;
using System.Text.Json;
using Fabric.Contracts;
using Fabric.Gateway.Customers;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Fabric.Gateway.Sockets.Auth;

/// <summary>
/// Connection tokens: JWTs signed HS256 with one of the customer's signing keys (the header's <c>kid</c> names it),
/// checked with Microsoft.IdentityModel.JsonWebTokens. Claims: <c>sub</c>, <c>exp</c> (required), <c>customer</c>
/// (must be the customer connected to), <c>sub_topics</c> and <c>pub_topics</c> (topic patterns; absent = all for
/// subscribe, none for publish), <c>info</c> (any JSON, shown in presence). See docs/protocol.md.
/// </summary>
/// <param name="clockSkew">How far <c>exp</c> may be past (<c>Fabric:Sockets:TokenClockSkew</c>).</param>
/// <param name="maxTopics">The most topics a claim may list (<c>Fabric:Sockets:MaxTopics</c>).</param>
internal sealed class ConnectionTokens(TimeSpan clockSkew, int maxTopics)
{
    /// <summary>Largest <c>info</c> claim, as JSON.</summary>
    public const int MaxInfoBytes = 1024;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>True when the text has a JWT's shape (three base64url parts), so it is checked as a token, not as a key.</summary>
    public static bool LooksLikeToken(string text) => text.Count(c => c == '.') == 2 && text.Length < 8192;

    /// <summary>The token's credential, or null with the reason (never the token) when it does not open a socket of <paramref name="customer"/>.</summary>
    public async Task<(SocketCredential? Credential, string? Reason)> ValidateAsync(string token, ResolvedCustomer customer)
    {
        var parameters = new TokenValidationParameters
        {
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = clockSkew,
            // Only the key the token names: a token signed by another customer's key (or a deleted one) finds none.
            TryAllIssuerSigningKeys = false,
            IssuerSigningKeyResolver = (_, _, kid, _) => kid is not null && customer.SigningKey(kid) is { } key ? [key] : [],
        };

        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return (null, result.Exception is SecurityTokenExpiredException ? "expired" : "invalid");
        }

        using var payload = JsonDocument.Parse(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload)));
        var claims = payload.RootElement;
        if (!claims.TryGetProperty("customer"u8, out var owner) || owner.ValueKind != JsonValueKind.String || owner.GetString() != customer.Id)
        {
            return (null, "customer");
        }

        if (!claims.TryGetProperty("sub"u8, out var subClaim) || subClaim.ValueKind != JsonValueKind.String
            || subClaim.GetString() is not { Length: > 0 and <= 200 } sub)
        {
            return (null, "sub");
        }

        if (!TryTopics(claims, "sub_topics", TopicFilter.All, out var canSubscribe) || !TryTopics(claims, "pub_topics", TopicFilter.None, out var canPublish))
        {
            return (null, "topics");
        }

        string? info = null;
        if (claims.TryGetProperty("info"u8, out var infoClaim) && infoClaim.ValueKind != JsonValueKind.Null)
        {
            info = infoClaim.GetRawText();
            if (Encoding.UTF8.GetByteCount(info) > MaxInfoBytes)
            {
                return (null, "info");
            }
        }

        return (new SocketCredential(SocketCredential.Token, sub, info, canSubscribe, canPublish, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero), jwt.Kid), null);
    }

    /// <summary>A topics claim: absent gives <paramref name="absent"/>; otherwise an array of valid topics.</summary>
    private bool TryTopics(JsonElement claims, string name, TopicFilter absent, out TopicFilter filter)
    {
        filter = absent;
        if (!claims.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() > maxTopics)
        {
            return false;
        }

        var topics = new List<string>();
        foreach (var topic in element.EnumerateArray())
        {
            if (topic.ValueKind != JsonValueKind.String || !TopicFilter.IsValidTopic(topic.GetString()))
            {
                return false;
            }

            topics.Add(topic.GetString()!);
        }

        filter = TopicFilter.Of(topics);
        return true;
    }
}
