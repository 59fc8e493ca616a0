namespace Fabric.Gateway.Sockets;

/// <summary>
/// Renews this gateway's registrations on a timer (grains expire gateways that stop renewing) and soon after the
/// cluster changes, and, when the host stops, closes every socket with 1001 so clients reconnect elsewhere and resume.
/// </summary>
internal sealed class FeedRenewalService(FeedRegistry registry, Microsoft.Extensions.Options.IOptions<SocketOptions> options, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var closeOnStop = lifetime.ApplicationStopping.Register(() =>
        {
            foreach (var session in registry.AllSessions())
            {
                session.RequestClose(CloseCodes.Shutdown, "server shutting down");
            }
        });

        // Normally every RenewInterval; after the cluster changed, every second for FastRenewalWindow, since the
        // grains that moved are reachable only once membership has settled, which takes a few seconds.
        var fastUntil = DateTimeOffset.MinValue;
        using var kick = new SemaphoreSlim(0);
        registry.RenewSoonRequested += OnRenewSoon;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var fast = DateTimeOffset.UtcNow < fastUntil;
                if (await kick.WaitAsync(fast ? TimeSpan.FromSeconds(1) : options.Value.RenewInterval, stoppingToken))
                {
                    fastUntil = DateTimeOffset.UtcNow + FastRenewalWindow;
                }

                await registry.RenewAllAsync();
            }
        }
        catch (OperationCanceledException)
        {
            // Host stopping.
        }
        finally
        {
            registry.RenewSoonRequested -= OnRenewSoon;
        }

        void OnRenewSoon() => kick.Release();
    }

    private static readonly TimeSpan FastRenewalWindow = TimeSpan.FromSeconds(30);
}
