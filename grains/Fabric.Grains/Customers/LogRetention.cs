using Fabric.Grains.Log;
using Microsoft.Extensions.Logging;

namespace Fabric.Grains.Customers;

/// <summary>
/// Retention and the sweep reminder, one run at a time, interleaved with the log writes instead of between them: a
/// slow reminder table or trim never holds up the next append. Trims when over the count or byte limit, or about once
/// a second for age; the reminder is looked at once per activation that wrote.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed partial class LogRetention(
    IEventLog log,
    string customer,
    CustomerOptions options,
    TimeProvider time,
    ILogger logger,
    Func<LogHead> head,
    Action<LogHead> trimmed,
    Func<DateTimeOffset, RetentionLimits> limits,
    Func<bool, Task> keepSweep,
    Func<bool> broken)
{
    private static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(1);

    private DateTimeOffset _lastTrim = time.GetUtcNow();
    private DateTimeOffset _lastKeyTrim;
    private long _bytesSinceTrim;
    private bool _maintaining;
    private bool _maintainAgain;
    private bool _sweepKept;

    /// <summary>A write of <paramref name="bytes"/> was kept: a trim follows when the log is over a limit.</summary>
    public void Written(long bytes)
    {
        _bytesSinceTrim += bytes;
        if (_maintaining)
        {
            _maintainAgain = true;
            return;
        }

        _ = MaintainAsync();
    }

    /// <summary>
    /// Best effort: a failed trim leaves extra history behind, never an acknowledged event unacknowledged. The keys'
    /// store is trimmed at most once a second (and by the retention sweep).
    /// </summary>
    public async Task TrimAsync(DateTimeOffset now, bool keys = false)
    {
        _lastTrim = now;
        try
        {
            trimmed(await log.TrimAsync(customer, limits(now)));
            if (keys && now - _lastKeyTrim >= TrimInterval)
            {
                _lastKeyTrim = now;
                await log.TrimKeysAsync(customer, now - options.IdempotencyWindow, options.IdempotencyMaxKeys);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.TrimFailed(logger, ex, customer);
        }
    }

    /// <summary>
    /// A customer with retained events keeps a reminder (it outlives the activation and, in distributed mode, the silo);
    /// one without events does not, so idle customers cost nothing.
    /// </summary>
    public async Task KeepSweepAsync()
    {
        try
        {
            var now = head();
            var hasEvents = now.FirstRetainedSeq <= now.LastSeq;
            await keepSweep(hasEvents);
            _sweepKept = hasEvents;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Best effort: without the sweep, retention still applies at the next append.
            Log.SweepFailed(logger, ex, customer);
        }
    }

    private async Task MaintainAsync()
    {
        _maintaining = true;
        try
        {
            do
            {
                _maintainAgain = false;
                if (!_sweepKept)
                {
                    await KeepSweepAsync();
                }

                var now = time.GetUtcNow();
                var at = head();
                if (at.LastSeq - at.FirstRetainedSeq + 1 > limits(now).MaxEvents || now - _lastTrim >= TrimInterval || _bytesSinceTrim > options.RetentionMaxBytes / 8)
                {
                    _bytesSinceTrim = 0;
                    await TrimAsync(now, keys: true);
                }
            }
            while (_maintainAgain && !broken());
        }
        finally
        {
            _maintaining = false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3, LogLevel.Warning, "Trimming the log of customer {Customer} failed")]
        public static partial void TrimFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(5, LogLevel.Warning, "Keeping the retention reminder of customer {Customer} failed")]
        public static partial void SweepFailed(ILogger logger, Exception exception, string customer);
    }
}
