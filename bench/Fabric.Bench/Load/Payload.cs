using System.Buffers.Text;
using System.Diagnostics;
using System.Text;

namespace Fabric.Bench.Load;

/// <summary>
/// The event body every server is sent: JSON carrying the sender's <see cref="Stopwatch"/> timestamp as
/// <c>"ts":"T&lt;ticks&gt;Z"</c>. Sender and receivers live in one process, so the receive time minus the stamp is the
/// end-to-end latency. The stamp is a string so that no server's framing (Fabric's envelope, SignalR's invocation,
/// a raw broadcast) changes how it is found.
/// </summary>
internal static class Payload
{
    private static readonly byte[] Marker = "\"ts\":\"T"u8.ToArray();

    public static byte[] Make(long n, int bytes)
    {
        var head = $"{{\"type\":\"bench.tick\",\"n\":{n},\"ts\":\"T{Stopwatch.GetTimestamp()}Z\",\"pad\":\"";
        var pad = Math.Max(0, bytes - head.Length - 2);
        return Encoding.UTF8.GetBytes(head + new string('x', pad) + "\"}");
    }

    /// <summary>Counts the stamped events in one received message (a server may batch several) and records their latency.</summary>
    public static int CountStamps(ReadOnlySpan<byte> message, long receivedAt, List<float>? latenciesMs)
    {
        var found = 0;
        while (true)
        {
            var at = message.IndexOf(Marker);
            if (at < 0)
            {
                return found;
            }

            message = message[(at + Marker.Length)..];
            found++;
            if (latenciesMs is not null && Utf8Parser.TryParse(message, out long sent, out _))
            {
                latenciesMs.Add((float)Stopwatch.GetElapsedTime(sent, receivedAt).TotalMilliseconds);
            }
        }
    }
}
