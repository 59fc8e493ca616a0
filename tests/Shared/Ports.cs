using System.Net;
using System.Net.Sockets;

namespace Fabric.Tests;

/// <summary>Ports for the servers a test starts (silos, gateways, Redis).</summary>
internal static class Ports
{
    // Below Linux's ephemeral range (32768-60999). A port the kernel picks for a bind to port 0 comes from that range,
    // and so does every outgoing connection the tests make: one of those could take it before the server binds it.
    private const int First = 20_000;
    private const int Last = 32_000;

    // An offset into the range, random at first, so test processes running side by side rarely walk the same ports.
    private static int _next = Random.Shared.Next(Last - First);

    /// <summary>A port nothing listens on now, outside the range outgoing connections draw from.</summary>
    public static int Free()
    {
        while (true)
        {
            var port = First + (Interlocked.Increment(ref _next) % (Last - First));
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try the next one.
            }
        }
    }
}
