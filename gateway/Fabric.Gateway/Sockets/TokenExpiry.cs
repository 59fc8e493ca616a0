namespace Fabric.Gateway.Sockets;

/// <summary>
/// Closes sockets whose connection token expired (4201: reconnect now with a fresh token and resume) unless a
/// <c>refresh</c> extended them. One queue ordered by expiry for the whole gateway, looked at every second, rather than
/// a timer per socket; an entry a refresh made stale is skipped when it comes due.
/// </summary>
internal sealed partial class TokenExpiry(TimeProvider clock, ILogger<TokenExpiry> logger) : BackgroundService
{
    private readonly PriorityQueue<(SocketSession Session, DateTimeOffset Expires), DateTimeOffset> _due = new();
    private readonly Lock _lock = new();
    private int _ended;

    /// <summary>Watches the session's current credential, if it expires.</summary>
    public void Track(SocketSession session)
    {
        if (session.Credential.Expires is { } expires)
        {
            lock (_lock)
            {
                _due.Enqueue((session, expires), expires);
            }
        }
    }

    /// <summary>
    /// A tracked session ended: its entries are dropped once ended ones make up half the queue, so a gateway with
    /// day-long tokens and many short connections does not keep every closed session until its token would have expired.
    /// </summary>
    public void Ended(SocketSession session)
    {
        if (session.Credential.Expires is null)
        {
            return;
        }

        lock (_lock)
        {
            if (++_ended > 1024 && _ended > _due.Count / 2)
            {
                var live = _due.UnorderedItems.Where(e => !e.Element.Session.Ended).ToList();
                _due.Clear();
                _due.EnqueueRange(live);
                _ended = 0;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                CloseExpired(clock.GetUtcNow());
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    private void CloseExpired(DateTimeOffset now)
    {
        List<SocketSession>? expired = null;
        lock (_lock)
        {
            while (_due.TryPeek(out var entry, out var at) && at <= now)
            {
                _due.Dequeue();
                // A refresh since this entry was queued moved the session's expiry: the newer entry decides.
                if (entry.Session.Ended)
                {
                    _ended = Math.Max(0, _ended - 1);
                }
                else if (entry.Session.Credential.Expires == entry.Expires && !entry.Session.IsClosing)
                {
                    (expired ??= []).Add(entry.Session);
                }
            }
        }

        foreach (var session in expired ?? [])
        {
            Log.Expired(logger, session.Id, session.Customer);
            session.RequestClose(CloseCodes.TokenExpired, "token expired");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(321, LogLevel.Debug, "Socket {Session} of customer {Customer} closed: its connection token expired")]
        public static partial void Expired(ILogger logger, string session, string customer);
    }
}
