using System.Text.Json;

namespace Fabric.Bench.Report;

/// <summary>The chat section: every socket of a room publishing at a fixed rate through its own socket, everyone receiving.</summary>
internal static partial class ResultsReport
{
    private static void WriteChat(Action<string> w, List<Dictionary<string, JsonElement>> lines, List<string> targets)
    {
        var chat = Medians(lines, "chat", l => Str(l, "server"), "deliveries_per_s", "p50_ms", "p99_ms", "max_ms");
        if (chat.Count == 0)
        {
            return;
        }

        var first = lines.First(l => Str(l, "scenario") == "chat");
        var sockets = Num(first, "sockets");
        var rate = Num(first, "rate_per_socket");
        w("## Chat: every socket publishes, every socket receives");
        w("");
        w($"{sockets:N0} sockets in one room, each sending {rate:0.##} messages/s through its own socket (open loop, phases spread), so " +
          $"{sockets * rate:N0} messages/s and {sockets * sockets * rate:N0} deliveries/s offered; latency = receive − the stamp made just " +
          "before the send. Fabric: `publish` ops, each an event of the customer's log (seq, history) before it fans out; SignalR: a hub " +
          "method that calls `Clients.All.SendAsync` (nothing kept).");
        w("");
        Table(w, chat, ["deliveries/s", "p50 ms", "p99 ms", "max ms"], higherIsBetter: true);
        Failures(w, lines, "chat");
        if (chat.GetValueOrDefault(Fabric) is { } f && chat.GetValueOrDefault("signalr") is { } signalr)
        {
            targets.Add(Target("Chat: every offered delivery made at SignalR's rate or better", f[0] >= signalr[0] * 0.99, $"{f[0] / signalr[0]:F3}×"));
            targets.Add(Target("Chat p99 within 2× SignalR's", f[2] <= 2 * signalr[2], $"{f[2] / signalr[2]:F2}× ({f[2]:F2} ms vs {signalr[2]:F2} ms)"));
        }
    }
}
