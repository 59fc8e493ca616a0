namespace Fabric.Gateway.Sockets;

/// <summary>
/// Renews this gateway's registrations on a timer (grains expire gateways that stop renewing) and, when the host
/// stops, closes every socket with 1001 so clients reconnect elsewhere and resume.
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

        using var timer = new PeriodicTimer(options.Value.RenewInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await registry.RenewAllAsync();
            }
        }
        catch (OperationCanceledException)
        {
            // Host stopping.
        }
    }
}
