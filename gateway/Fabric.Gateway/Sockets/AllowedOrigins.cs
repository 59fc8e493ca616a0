namespace Fabric.Gateway.Sockets;

/// <summary>
/// Which pages may open a socket: a browser sends the page's <c>Origin</c> with every WebSocket handshake and, unlike
/// fetch, enforces no CORS on it, so without this check any site could open sockets with its visitors' browsers.
/// </summary>
internal static class AllowedOrigins
{
    public const string Any = "*";

    /// <summary>
    /// True when there is no <c>Origin</c> (a server or a native app, which could send any origin anyway), when no list
    /// is configured or it holds <see cref="Any"/>, or when the origin is on the list (case-insensitive).
    /// </summary>
    public static bool IsAllowed(string? origin, IReadOnlyCollection<string> allowed) =>
        string.IsNullOrEmpty(origin)
        || allowed.Count == 0
        || allowed.Any(a => a == Any || string.Equals(a.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase));
}
