using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Fabric.Gateway.Tests.Webhooks;

namespace Fabric.Gateway.Tests;

/// <summary>
/// Generated garbage against the socket endpoint — handshakes with bad credentials, and frames that are invalid UTF-8,
/// oversized, of the wrong shape, forbidden, or a flood: only documented statuses, errors and close codes come back, the
/// gateway stays up, and nothing is published.
/// </summary>
public sealed class GarbageTests
{
    private static readonly HashSet<string> DocumentedErrors =
    [
        "invalid_json", "missing_op", "unknown_op", "invalid_topics", "too_many_topics", "invalid_since", "invalid_epoch", "binary_not_supported",
        "invalid_ref", "invalid_topic", "missing_data", "payload_too_large", "invalid_id", "forbidden", "invalid_token", "rate_limited",
    ];

    private static readonly HashSet<WebSocketCloseStatus?> DocumentedCloses =
    [
        WebSocketCloseStatus.InvalidPayloadData, WebSocketCloseStatus.MessageTooBig, (WebSocketCloseStatus)4000, (WebSocketCloseStatus)4008,
    ];

    [Fact]
    public async Task A_thousand_garbage_frames_and_two_hundred_bad_handshakes_get_only_documented_answers_and_publish_nothing()
    {
        await using var gateway = await TestGateway.StartAsync(new()
        {
            ["Fabric:Sockets:MaxPublishBytes"] = "512",
            ["Fabric:Sockets:MaxInvalidFramesPerMinute"] = "50",
            ["Fabric:Sockets:MessagesPerSecond"] = "200",
            ["Fabric:Sockets:MessageBurst"] = "60",
        });
        var address = gateway.Http.BaseAddress!;
        var a = await SessionCustomer.CreateAsync(gateway.Http);
        var token = await a.TokenAsync("fuzz", subTopics: ["chat.*"], pubTopics: ["chat.*"]);
        var random = new Random(1234);

        // Handshakes: random text, JWT-shaped junk, unsigned ("alg":"none"), another algorithm, too long, a key of nobody.
        var wrongAlg = (await Signers.TokensAsync(new TokenRequest(a.Secret, a.KeyId, new() { ["sub"] = "x", ["customer"] = a.Id, ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds() }, "HS512")))[0];
        var unsigned = B64("{\"alg\":\"none\",\"kid\":\"" + a.KeyId + "\"}") + "." + B64($"{{\"sub\":\"x\",\"customer\":\"{a.Id}\",\"exp\":9999999999}}") + ".";
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 200; i++)
        {
            var credential = (i % 8) switch
            {
                0 => RandomText(random, random.Next(1, 300)),
                1 => $"{RandomB64(random, 20)}.{RandomB64(random, 60)}.{RandomB64(random, 43)}",
                2 => unsigned,
                3 => wrongAlg,
                4 => token[..random.Next(1, token.Length - 1)],
                5 => new string('a', 9000),
                6 => $"fab~{a.Id}~key_{RandomB64(random, 8)}~{RandomB64(random, 40)}",
                _ => token.Replace('.', '!'),
            };
            statuses.Add((await SessionAsserts.HandshakeAsync(address, a.Id, credential, inQuery: i % 2 == 0)).Status);
        }

        Assert.All(statuses, status => Assert.Contains(status, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.BadRequest }));

        // Frames, over as many sockets as the closes take.
        var errors = new List<string>();
        var closes = new List<WebSocketCloseStatus?>();
        var sent = 0;
        while (sent < 1000)
        {
            await using var socket = await FabricSocket.ConnectAsync(address, a.Id, credential: token, inQuery: true);
            while (sent < 1000 && socket.CloseStatus is null)
            {
                var (text, binary) = Garbage(random, sent++);
                try
                {
                    if (ReferenceEquals(text, InvalidUtf8))
                    {
                        await socket.SendTextBytesAsync([0x7B, 0x22, 0xC3, 0x28, 0xFF, 0x22, 0x7D]);   // {"\xC3(\xFF"}: not UTF-8
                    }
                    else if (binary is not null)
                    {
                        await socket.SendBinaryAsync(binary);
                    }
                    else
                    {
                        await socket.SendTextAsync(text!);
                    }
                }
                catch (WebSocketException)
                {
                    break;
                }

                // Read what the server answers, up to the pong of a ping sent after the frame: a socket's frames are
                // handled in order, so every answer to the garbage comes before it (or the socket closes instead).
                var marker = "m" + sent;
                try
                {
                    await socket.SendAsync(new { op = "ping", @ref = marker });
                }
                catch (WebSocketException)
                {
                    break;
                }

                while (await socket.TryReceiveAsync(TimeSpan.FromSeconds(10)) is { } frame)
                {
                    var op = frame.GetProperty("op").GetString();
                    Assert.Contains(op, new[] { "error", "pong", "subscribed", "unsubscribed", "presence" });
                    if (op == "error")
                    {
                        errors.Add(frame.GetProperty("code").GetString()!);
                    }
                    else if (op == "pong" && frame.TryGetProperty("ref", out var answered) && answered.GetString() == marker)
                    {
                        break;
                    }
                }
            }

            // The last socket may still be open once the thousandth frame is answered: nothing to wait for then.
            closes.Add(socket.State == WebSocketState.Open ? null : await socket.WaitForCloseAsync());
        }

        Assert.All(errors, code => Assert.Contains(code, DocumentedErrors));
        Assert.True(closes.All(c => c is null || DocumentedCloses.Contains(c)), "closes: " + string.Join(", ", closes));
        Assert.True(errors.Count > 300, $"only {errors.Count} errors for 1,000 garbage frames");

        // Nothing was published, and the gateway still serves.
        var history = await gateway.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{a.Id}/events");
        Assert.Equal(0, history.GetProperty("events").GetArrayLength());
        await using var healthy = await FabricSocket.ConnectAsync(address, a.Id, credential: token, inQuery: true);
        await healthy.SendAsync(new { op = "ping" });
        Assert.Equal("pong", (await healthy.ReceiveAsync()).GetProperty("op").GetString());
    }

    /// <summary>One garbage frame; never a valid publish of an allowed topic.</summary>
    private static (string? Text, byte[]? Binary) Garbage(Random random, int i) => (i % 20) switch
    {
        0 => (null, RandomBytes(random, random.Next(1, 200))),
        1 => ("{\"op\":\"subscribe\",\"topics\":[\"chat.a\"]"[..random.Next(1, 35)], null),
        2 => ($"{{\"op\":{random.Next()}}}", null),
        3 => ("{\"op\":\"subscribe\",\"topics\":\"chat.a\"}", null),
        4 => ("{\"op\":\"subscribe\",\"topics\":[\"admin.*\"]}", null),
        5 => ($"{{\"op\":\"publish\",\"topic\":\"admin.{random.Next()}\",\"data\":1}}", null),
        6 => ($"{{\"op\":\"publish\",\"topic\":\"chat.{random.Next()}\"}}", null),
        7 => ($"{{\"op\":\"publish\",\"topic\":\"chat.x\",\"data\":\"{new string('x', 600 + random.Next(500))}\"}}", null),
        8 => ("{\"op\":\"publish\",\"topic\":\"chat *\",\"data\":{}}", null),
        9 => ($"{{\"op\":\"publish\",\"topic\":\"chat.x\",\"data\":1,\"id\":\"has space {random.Next()}\"}}", null),
        10 => ($"{{\"op\":\"subscribe\",\"topics\":[\"chat.a\"],\"since\":-{random.Next(1, 100)}}}", null),
        11 => ("{\"op\":\"subscribe\",\"topics\":[\"chat.a\"],\"since\":\"42\"}", null),
        12 => ($"{{\"op\":\"ping\",\"ref\":\"{new string('r', 65 + random.Next(10))}\"}}", null),
        13 => ("{\"op\":\"refresh\",\"token\":\"" + RandomB64(random, 50) + "\"}", null),
        14 => ("{\"op\":\"presence\",\"topic\":\"admin.x\"}", null),
        15 => (new string('[', 200 + random.Next(100)), null),
        16 => ($"{{\"op\":\"{RandomText(random, 8)}\"}}", null),
        17 => random.Next(4) == 0 ? ("{\"op\":\"ping\",\"pad\":\"" + new string('p', 5000) + "\"}", null) : ("{\"op\":null}", null),
        18 => ("{\"op\":\"publish\",\"topic\":\"chat.x\",\"data\":" + new string('[', 70) + new string(']', 70) + "}", null),
        _ => random.Next(3) == 0 ? (InvalidUtf8, null) : (Encoding.Latin1.GetString(RandomBytes(random, 30)), null),
    };

    // Stands for a text frame whose bytes are not UTF-8 (the runtime closes those with 1007).
    private static readonly string InvalidUtf8 = new('\u0001', 1);

    private static string RandomText(Random random, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => (char)random.Next(33, 127))]);

    private static string RandomB64(Random random, int length) => B64(RandomBytes(random, length))[..length];

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string B64(string text) => B64(Encoding.UTF8.GetBytes(text));

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
