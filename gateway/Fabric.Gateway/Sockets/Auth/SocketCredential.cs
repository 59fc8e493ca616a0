using Fabric.Contracts;
namespace Fabric.Gateway.Sockets.Auth;

/// <summary>
/// Who a socket authenticated as, and what it may do: checked once before the upgrade and kept for the socket's life
/// (a <c>refresh</c> swaps in a newer token of the same <c>sub</c>).
/// </summary>
/// <param name="Kind">How it authenticated: <c>token</c>, <c>key</c> (a customer API key) or <c>admin</c>.</param>
/// <param name="Sub">The user: the token's <c>sub</c>, the API key's id, or <c>admin</c>.</param>
/// <param name="Info">The token's <c>info</c> claim as raw JSON, shown in presence; null when absent.</param>
/// <param name="CanSubscribe">Topics it may subscribe to (a token's <c>sub_topics</c>; all when absent).</param>
/// <param name="CanPublish">Event types it may publish (a token's <c>pub_topics</c>; none when absent; all for a key with the <c>publish</c> scope).</param>
/// <param name="Expires">When the credential stops being valid (a token's <c>exp</c>); null for keys.</param>
/// <param name="KeyId">The signing key or API key that vouched for it (revoking it closes the socket at its next check).</param>
internal sealed record SocketCredential(
    string Kind, string Sub, string? Info, TopicFilter CanSubscribe, TopicFilter CanPublish, DateTimeOffset? Expires, string? KeyId)
{
    public const string Token = "token";
    public const string Key = "key";
    public const string Admin = "admin";
}
