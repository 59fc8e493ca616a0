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
    private readonly List<Entry>?[] _slots = new List<Entry>?[Slots];
    private readonly long _intervalMs;
    private readonly long _timeoutMs;
    private long _current;

    public KeepAliveWheel(IOptions<SocketOptions> options, TimeProvider clock)
    {
        Clock = clock;
        _intervalMs = (long)options.Value.KeepAliveInterval.TotalMilliseconds;
        _timeoutMs = (long)options.Value.KeepAliveTimeout.TotalMilliseconds;
        _current = Now / 1000;
    }

    /// <summary>The clock the wheel turns on, and that the streams it watches note their reads on.</summary>
    public TimeProvider Clock { get; }

    /// <summary>A monotonic time in milliseconds on <paramref name="clock"/>.</summary>
    public static long Milliseconds(TimeProvider clock) => clock.GetTimestamp() / Math.Max(1, clock.TimestampFrequency / 1000);

    private long Now => Milliseconds(Clock);

    /// <summary>Starts watching a socket: its first look comes one interval from now.</summary>
    /// <param name="stream">The stream under the socket, which the wheel pings through.</param>
    /// <param name="socket">The socket.</param>
    /// <param name="connection">The upgraded request: aborting it ends the connection and every read pending on it.</param>
    public void Watch(CoalescingStream stream, WebSocket socket, HttpContext connection) =>
        Schedule(new Entry(stream, socket, connection), Now + _intervalMs);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, Clock);
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
    internal void Turn()
    {
        var now = Now;
        while (true)
        {
            List<Entry>? due;
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

            foreach (var entry in due ?? [])
            {
                try
                {
                    Look(entry, now);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
                {
                    // A socket torn down under the look: nothing to keep alive.
                }
            }
        }
    }

    private void Look(Entry entry, long now)
    {
        var stream = entry.Stream;
        if (entry.Socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived) || stream.CloseSent)
        {
            // Closed, closing, or its request is over: the wheel lets go of it.
            return;
        }

        if (entry.Due > now)
        {
            // Scheduled more than a lap ahead: not yet.
            Schedule(entry, entry.Due);
            return;
        }

        if (stream.Handling)
        {
            // Busy positioning the socket, not reading: not silent. Looked at again one interval on.
            entry.PingSentAt = 0;
            Schedule(entry, now + _intervalMs);
            return;
        }

        var lastRead = stream.LastRead;
        if (entry.PingSentAt != 0)
        {
            if (stream.Reads == entry.ReadsAtPing)
            {
                // Nothing at all from the client since the ping: not even the pong.
                GatewayTelemetry.KeepAliveTimeouts.Add(1);
                entry.Socket.Abort();
                if (!stream.CloseSent)
                {
                    // Only while the request lasts: once it ended, Kestrel may have reused its context.
                    entry.Connection.Abort();
                }

                return;
            }

            entry.PingSentAt = 0;
        }

        if (now - lastRead < _intervalMs)
        {
            Schedule(entry, lastRead + _intervalMs);
            return;
        }

        entry.PingSentAt = now;
        entry.ReadsAtPing = stream.Reads;
        _ = stream.WritePingAsync();
        Schedule(entry, now + _timeoutMs);
    }

    private void Schedule(Entry entry, long dueMs)
    {
        entry.Due = dueMs;
        // At most a lap ahead; a later look is put back until its time comes.
        var second = Math.Min(dueMs / 1000, (Now / 1000) + Slots - 1);
        lock (_lock)
        {
            second = Math.Max(second, _current);
            (_slots[(int)(second % Slots)] ??= []).Add(entry);
        }
    }

    /// <summary>
    /// One watched socket. Only the wheel touches it after <see cref="Watch"/>, one look at a time: when to look next,
    /// and when the unanswered ping went out (0: none) with the reads counted then.
    /// </summary>
    private sealed class Entry(CoalescingStream stream, WebSocket socket, HttpContext connection)
    {
        public CoalescingStream Stream { get; } = stream;

        public WebSocket Socket { get; } = socket;

        public HttpContext Connection { get; } = connection;

        public long Due { get; set; }

        public long PingSentAt { get; set; }

        public long ReadsAtPing { get; set; }
    }
}
