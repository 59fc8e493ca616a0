using System.Net.WebSockets;
using Fabric.Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Keep-alives for every socket of the gateway from one timer: a wheel of one-second slots, each holding the sockets
/// due for a look in that second. A socket the client has sent nothing on for <see cref="SocketOptions.KeepAliveInterval"/>
/// gets a ping; one that then stays silent for <see cref="SocketOptions.KeepAliveTimeout"/> (a pong, like any frame,
/// counts) is aborted. This replaces <c>ManagedWebSocket</c>'s timer per socket: an idle socket costs the wheel one
/// reference, and the process-wide timer queue (and its lock) sees one timer, not one per socket. Sockets accepted over HTTP/2 (no <see cref="CoalescingStream"/> to write a ping through) keep
/// <c>ManagedWebSocket</c>'s own keep-alive.
/// </summary>
internal sealed class KeepAliveWheel : BackgroundService
{
    private const int Slots = 64;
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly List<CoalescingStream>?[] _slots = new List<CoalescingStream>?[Slots];
    private readonly long _intervalMs;
    private readonly long _timeoutMs;
    private long _current = Now / 1000;

    public KeepAliveWheel(IOptions<SocketOptions> options)
    {
        _intervalMs = (long)options.Value.KeepAliveInterval.TotalMilliseconds;
        _timeoutMs = (long)options.Value.KeepAliveTimeout.TotalMilliseconds;
    }

    private static long Now => Environment.TickCount64;

    /// <summary>Starts watching a socket: its first look comes one interval from now.</summary>
    /// <param name="stream">The stream under the socket, which the wheel pings through.</param>
    /// <param name="socket">The socket.</param>
    /// <param name="connection">The upgraded request: aborting it ends the connection and every read pending on it.</param>
    public void Watch(CoalescingStream stream, WebSocket socket, HttpContext connection)
    {
        stream.Socket = socket;
        stream.Connection = connection;
        Schedule(stream, Now + _intervalMs);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Turn();
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    /// <summary>Looks at every socket due up to now, slot by slot; each is rescheduled or dropped.</summary>
    private void Turn()
    {
        var now = Now;
        while (true)
        {
            List<CoalescingStream>? due;
            lock (_lock)
            {
                if (_current > now / 1000)
                {
                    return;
                }

                var slot = (int)(_current % Slots);
                due = _slots[slot];
                _slots[slot] = null;
                _current++;
            }

            foreach (var stream in due ?? [])
            {
                try
                {
                    Look(stream, now);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
                {
                    // A socket torn down under the look: nothing to keep alive.
                }
            }
        }
    }

    private void Look(CoalescingStream stream, long now)
    {
        var socket = stream.Socket!;
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived) || stream.CloseSent)
        {
            // Closed or closing: the wheel lets go of it.
            return;
        }

        if (stream.Due > now)
        {
            // Scheduled more than a lap ahead: not yet.
            Schedule(stream, stream.Due);
            return;
        }

        if (stream.Handling)
        {
            // Busy positioning the socket, not reading: not silent. Looked at again one interval on.
            stream.PingSentAt = 0;
            Schedule(stream, now + _intervalMs);
            return;
        }

        var lastRead = stream.LastRead;
        if (stream.PingSentAt != 0)
        {
            if (stream.Reads == stream.ReadsAtPing)
            {
                // Nothing at all from the client since the ping: not even the pong.
                GatewayTelemetry.KeepAliveTimeouts.Add(1);
                var connection = stream.Connection;
                socket.Abort();
                connection?.Abort();
                return;
            }

            stream.PingSentAt = 0;
        }

        if (now - lastRead < _intervalMs)
        {
            Schedule(stream, lastRead + _intervalMs);
            return;
        }

        stream.PingSentAt = now;
        stream.ReadsAtPing = stream.Reads;
        _ = stream.WritePingAsync();
        Schedule(stream, now + _timeoutMs);
    }

    private void Schedule(CoalescingStream stream, long dueMs)
    {
        stream.Due = dueMs;
        // At most a lap ahead; a later look is put back until its time comes.
        var second = Math.Min(dueMs / 1000, (Now / 1000) + Slots - 1);
        lock (_lock)
        {
            second = Math.Max(second, _current);
            (_slots[(int)(second % Slots)] ??= []).Add(stream);
        }
    }
}
