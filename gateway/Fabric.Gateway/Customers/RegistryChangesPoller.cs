using Fabric.Contracts.Registry;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Customers;

/// <summary>
/// Reads the registry's change feed every <see cref="CustomerDirectoryOptions.PollInterval"/> and drops the changed
/// customers from this gateway's cache. It loops rather than waiting for a push because a push can be lost (a
/// gateway briefly cut off from the cluster) while a poll that fails is simply made again.
/// </summary>
internal sealed partial class RegistryChangesPoller(
    IGrainFactory grains, CustomerDirectory directory, IOptions<CustomerDirectoryOptions> options, ILogger<RegistryChangesPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var feed = grains.GetGrain<IRegistryChangesGrain>(0);
        var epoch = Guid.Empty;
        long cursor = 0;
        var failing = false;
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var changes = await feed.Since(epoch, cursor);
                if (changes.Reset)
                {
                    directory.InvalidateAll();
                }

                foreach (var customer in changes.Customers)
                {
                    directory.Invalidate(customer);
                }

                (epoch, cursor) = (changes.Epoch, changes.Cursor);
                directory.FeedRead();
                failing = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Changes made meanwhile are not lost: the next successful poll returns them, or a reset. Until then the
                // directory trusts its entries only briefly.
                if (!failing)
                {
                    Log.PollFailed(logger, ex);
                }

                failing = true;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(701, LogLevel.Warning, "Reading the registry change feed failed; cached customer configuration may be stale until it succeeds")]
        public static partial void PollFailed(ILogger logger, Exception exception);
    }
}
