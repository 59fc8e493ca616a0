using Fabric.Hosting.Admin;
using System.Security.Cryptography;
using Fabric.Contracts;
using Fabric.Gateway.Auth;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;

namespace Fabric.Gateway.Sockets.Auth;

/// <summary>
/// Checks a socket's credential before the upgrade: an admin key, a customer API key with the <c>subscribe</c> scope,
/// or a connection token. It comes in <c>Authorization: Bearer …</c> or, because browsers cannot set headers on a
/// WebSocket, in the <c>access_token</c> query parameter (as SignalR does). The credential is never logged, and the
/// answer never says whether the customer exists unless the caller holds an admin key.
/// </summary>
internal sealed partial class SocketAuthenticator(AdminKeys adminKeys, CustomerDirectory directory, ConnectionTokens tokens, ILogger<SocketAuthenticator> logger)
{
    public const string QueryParameter = "access_token";

    public async Task<(SocketCredential? Credential, IResult? Problem)> AuthenticateAsync(HttpContext context, string customer)
    {
        if (Presented(context.Request) is not { } presented)
        {
            return (null, Unauthorized("A credential is required: Authorization: Bearer <API key or connection token>, or ?access_token=."));
        }

        if (adminKeys.Matches(presented))
        {
            // Operators and tools: any customer, every topic, both ways.
            var known = await directory.GetAsync(customer);
            return known is null
                ? (null, Problems.UnknownCustomer())
                : (new SocketCredential(SocketCredential.Admin, SocketCredential.Admin, null, TopicFilter.All, TopicFilter.All, null, null), null);
        }

        var resolved = await directory.GetAsync(customer);
        if (resolved is null)
        {
            // The same answer as a bad credential: a stranger learns nothing about which customers exist.
            Log.Refused(logger, customer, "unknown customer");
            return (null, Unauthorized());
        }

        if (ApiKeys.TryParse(presented, out var owner, out var keyId))
        {
            if (owner != customer || resolved.Config.Keys.GetValueOrDefault(keyId) is not { } key
                || !CryptographicOperations.FixedTimeEquals(ApiKeys.Hash(presented), key.Hash))
            {
                Log.Refused(logger, customer, "unknown key");
                return (null, Unauthorized());
            }

            if (!key.Scopes.Contains(ApiKeys.Subscribe))
            {
                return (null, Problems.Forbidden("This key lacks the subscribe scope."));
            }

            var publish = key.Scopes.Contains(ApiKeys.Publish) ? TopicFilter.All : TopicFilter.None;
            return (new SocketCredential(SocketCredential.Key, keyId, null, TopicFilter.All, publish, null, keyId), null);
        }

        if (!ConnectionTokens.LooksLikeToken(presented))
        {
            Log.Refused(logger, customer, "not a key or token");
            return (null, Unauthorized());
        }

        var (credential, reason) = await tokens.ValidateAsync(presented, resolved);
        if (credential is null)
        {
            Log.Refused(logger, customer, reason!);
            return (null, reason == "expired" ? Unauthorized("The connection token has expired; get a fresh one.") : Unauthorized());
        }

        return (credential, null);
    }

    /// <summary>A later token for the same socket (<c>refresh</c>): same customer and the same <c>sub</c>, or refused.</summary>
    public async Task<(SocketCredential? Credential, string? Reason)> RefreshAsync(string customer, string token, SocketCredential current)
    {
        if (current.Kind != SocketCredential.Token)
        {
            return (null, "Only sockets opened with a connection token can refresh it.");
        }

        if (!ConnectionTokens.LooksLikeToken(token) || await directory.GetAsync(customer) is not { } resolved)
        {
            return (null, "The token is not valid.");
        }

        var (credential, reason) = await tokens.ValidateAsync(token, resolved);
        return credential is null ? (null, reason == "expired" ? "The token has expired." : "The token is not valid.")
            : credential.Sub != current.Sub ? (null, "The token is for another sub.")
            : (credential, null);
    }

    private static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count == 1 && header[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return value[7..].Trim() is { Length: > 0 and <= 8192 } bearer ? bearer : null;
        }

        var query = request.Query[QueryParameter];
        return header.Count == 0 && query.Count == 1 && query[0] is { Length: > 0 and <= 8192 } token ? token : null;
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Unauthorized(string? detail = null) =>
        Problems.Unauthorized(detail ?? "The credential is not valid for this customer: an API key with the subscribe scope, or a connection token signed with one of its signing keys.");

    private static partial class Log
    {
        // The reason names the rule, never the credential.
        [LoggerMessage(320, LogLevel.Debug, "A socket for customer {Customer} was refused before the upgrade: {Reason}")]
        public static partial void Refused(ILogger logger, string customer, string reason);
    }
}
