namespace Fabric.Gateway.Sockets;

/// <summary>
/// Renews this gateway's registrations on a timer (grains expire gateways that stop renewing) and soon after the
/// cluster changes. (Closing sockets on shutdown is <see cref="SocketDrain"/>'s.)
/// </summary>
internal sealed partial class FeedRenewalService(
    FeedRegistry registry, Microsoft.Extensions.Options.IOptions<SocketOptions> options, TimeProvider clock, ILogger<FeedRenewalService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Normally every RenewInterval; after the cluster changed, every second for FastRenewalWindow, since the
        // grains that moved are reachable only once membership has settled, which takes a few seconds.
        var fastUntil = DateTimeOffset.MinValue;
        var kick = NewKick();
        registry.RenewSoonRequested += OnRenewSoon;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var fast = clock.GetUtcNow() < fastUntil;
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    var kicked = Volatile.Read(ref kick).Task;
                    if (await Task.WhenAny(Task.Delay(fast ? TimeSpan.FromSeconds(1) : options.Value.RenewInterval, clock, wait.Token), kicked) == kicked)
                    {
                        Volatile.Write(ref kick, NewKick());
                        fastUntil = clock.GetUtcNow() + FastRenewalWindow;
                    }

                    await wait.CancelAsync();
                }

                stoppingToken.ThrowIfCancellationRequested();
                try
                {
                    await registry.RenewAllAsync();
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Renewal must outlive any one bad round: grains forget a gateway that stops renewing.
                    Log.RenewalRoundFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping: the only way out. RenewAllAsync handles every failure of its own, cancellations included.
        }
        finally
        {
            registry.RenewSoonRequested -= OnRenewSoon;
        }

        void OnRenewSoon() => Volatile.Read(ref kick).TrySetResult();
    }

    private static TaskCompletionSource NewKick() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static readonly TimeSpan FastRenewalWindow = TimeSpan.FromSeconds(30);

    private static partial class Log
    {
        [LoggerMessage(410, LogLevel.Warning, "A renewal round failed; renewing again at the next interval")]
        public static partial void RenewalRoundFailed(ILogger logger, Exception exception);
    }
}
