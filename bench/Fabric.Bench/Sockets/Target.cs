using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Fabric.Bench.Sockets;

/// <summary>
/// What differs between the servers under test: where sockets connect, where events are posted, and the handshake
/// a socket does before it receives broadcasts. The client is otherwise the same for all of them.
/// </summary>
internal sealed record Target(string Kind, Uri SocketUrl, Uri PostUrl, string[] SubProtocols)
{
    /// <summary>
    /// Fabric's sockets offer <c>fabric.v1.batch</c> first (several frames per message when the server has several
    /// queued, as SignalR's transport sends what its pipe holds); FABRIC_BENCH_UNBATCHED=1 offers <c>fabric.v1</c> only.
    /// A gateway without the batched protocol selects <c>fabric.v1</c>, so both builds of a before/after run connect.
    /// </summary>
    private static readonly bool Batched = Environment.GetEnvironmentVariable("FABRIC_BENCH_UNBATCHED") != "1";

    /// <summary>fabric: the gateway (customer "bench"); raw: bare Kestrel or Node <c>ws</c>; signalr: the SignalR hub.</summary>
    public static Target For(string kind, Uri baseUrl)
    {
        var ws = new UriBuilder(baseUrl) { Scheme = baseUrl.Scheme == "https" ? "wss" : "ws" }.Uri;
        return kind switch
        {
            "fabric" => new Target(kind, new Uri(ws, "/v1/ws?customer=bench"), new Uri(baseUrl, "/v1/webhooks/bench/load"), Batched ? ["fabric.v1.batch", "fabric.v1"] : ["fabric.v1"]),
            "raw" => new Target(kind, new Uri(ws, "/ws"), new Uri(baseUrl, "/broadcast"), []),
            "signalr" => new Target(kind, new Uri(ws, "/hub"), new Uri(baseUrl, "/broadcast"), []),
            _ => throw new ArgumentException($"unknown target kind '{kind}' (fabric, raw, signalr)"),
        };
    }

    /// <summary>
    /// The secret of the bench customer's seeded signing key <c>sk_bench</c> (bench/run.sh seeds the same): Fabric's
    /// sockets connect as a browser does, with a connection token of their own in <c>access_token</c>.
    /// </summary>
    public const string SigningSecret = "bench-signing-secret-not-a-secret-0123456789";

    /// <summary>
    /// Where socket <paramref name="i"/> connects: for Fabric, with its own token (sub <c>user-{i}</c>, allowed to
    /// publish to <c>chat.*</c> for the chat scenario).
    /// </summary>
    public Uri SocketUrlFor(int i) => Kind == "fabric" ? new Uri(SocketUrl + "&access_token=" + Token($"user-{i}", "chat.*")) : SocketUrl;

    /// <summary>
    /// One chat message from a client, in the server's protocol: Fabric's <c>publish</c> op (answered with
    /// <c>published</c>, which carries no stamp and so is not counted) or a SignalR invocation of the hub's <c>Send</c>.
    /// </summary>
    public byte[] ChatFrame(byte[] payload) => Kind switch
    {
        "fabric" => [.. "{\"op\":\"publish\",\"topic\":\"chat.room\",\"data\":"u8, .. payload, .. "}"u8],
        "signalr" => [.. "{\"type\":1,\"target\":\"Send\",\"arguments\":["u8, .. payload, .. "]}\u001e"u8],
        _ => throw new ArgumentException($"no chat protocol for '{Kind}' (fabric, signalr)"),
    };

    /// <summary>
    /// An HS256 connection token, made here by hand (header.payload.HMAC, RFC 7519) so the load generator needs no JWT
    /// library; the gateway checks it with Microsoft.IdentityModel.JsonWebTokens, and the tests with npm jose.
    /// </summary>
    public static string Token(string sub, string? pubTopics = null)
    {
        var exp = DateTimeOffset.UtcNow.AddHours(2).ToUnixTimeSeconds();
        var pub = pubTopics is null ? "" : $",\"pub_topics\":[\"{pubTopics}\"]";
        var header = Base64Url("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"sk_bench\"}"u8);
        var payload = Base64Url(Encoding.UTF8.GetBytes($"{{\"sub\":\"{sub}\",\"customer\":\"bench\",\"exp\":{exp}{pub}}}"));
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(SigningSecret), Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Base64Url(signature);
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Brings a fresh socket to the point where it receives broadcasts.</summary>
    public async Task HandshakeAsync(ClientWebSocket socket, byte[] buffer, CancellationToken ct)
    {
        switch (Kind)
        {
            case "fabric":
                await socket.SendAsync("{\"op\":\"subscribe\",\"topics\":[\"*\"]}"u8.ToArray(), WebSocketMessageType.Text, true, ct);
                await ReceiveUntilAsync(socket, buffer, "\"op\":\"subscribed\"", ct);
                break;
            case "signalr":
                // JSON hub protocol; records end with 0x1E. The server answers the handshake with "{}".
                await socket.SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Text, true, ct);
                await ReceiveUntilAsync(socket, buffer, "{}\u001e", ct);
                break;
        }
    }

    private static async Task ReceiveUntilAsync(ClientWebSocket socket, byte[] buffer, string expected, CancellationToken ct)
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"closed during handshake: {result.CloseStatus} {result.CloseStatusDescription}");
            }

            if (Encoding.UTF8.GetString(buffer, 0, result.Count).Contains(expected, StringComparison.Ordinal))
            {
                return;
            }
        }
    }
}
