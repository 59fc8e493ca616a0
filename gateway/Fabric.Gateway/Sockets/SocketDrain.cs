using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Graceful drain: when the host begins to stop, before Kestrel stops, the gateway refuses new sockets (503) and closes
/// its open ones with 4200 ("reconnect elsewhere now and resume") in batches spread over
/// <see cref="SocketOptions.DrainWindow"/>, so ten thousand clients reconnect to the other gateways over seconds rather
/// than in the same millisecond (Phoenix's socket drainer does the same). It then waits, up to
/// <see cref="SocketOptions.CloseTimeout"/>, for the closes to finish; all within the host's shutdown timeout.
/// </summary>
internal sealed partial class SocketDrain(FeedRegistry registry, IOptions<SocketOptions> options, TimeProvider clock, ILogger<SocketDrain> logger) : IHostedLifecycleService
{
    private volatile bool _draining;

    /// <summary>True once the drain began: new sockets are refused.</summary>
    public bool Draining => _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var sessions = registry.AllSessions().Where(s => !s.IsClosing).ToArray();
        if (sessions.Length == 0)
        {
            return;
        }

        var settings = options.Value;
        var batches = (int)Math.Clamp(settings.DrainWindow / settings.DrainBatchInterval, 1, sessions.Length);
        var size = (sessions.Length + batches - 1) / batches;
        Log.Draining(logger, sessions.Length, batches, settings.DrainWindow.TotalSeconds);
        try
        {
            for (var i = 0; i < sessions.Length; i += size)
            {
                if (i > 0)
                {
                    await Task.Delay(settings.DrainBatchInterval, clock, cancellationToken);
                }

                foreach (var session in sessions.AsSpan(i, Math.Min(size, sessions.Length - i)))
                {
                    session.RequestClose(CloseCodes.Drain, "reconnect elsewhere and resume");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout is up: whatever is left goes now.
        }

        // Sockets that connected while the drain ran (they raced the flag) go in the last batch.
        foreach (var session in registry.AllSessions())
        {
            session.RequestClose(CloseCodes.Drain, "reconnect elsewhere and resume");
        }

        var closing = clock.GetTimestamp();
        while (registry.AllSessions().Any() && clock.GetElapsedTime(closing) < settings.CloseTimeout && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(ClosePoll, clock, CancellationToken.None);
        }
    }

    private static readonly TimeSpan ClosePoll = TimeSpan.FromMilliseconds(50);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(330, LogLevel.Information, "Draining {Sockets} sockets in {Batches} batches over {Seconds} s (close 4200)")]
        public static partial void Draining(ILogger logger, int sockets, int batches, double seconds);
    }
}
