using Fabric.Contracts;
using Fabric.Grains.Log;
using Microsoft.Extensions.Logging;

namespace Fabric.Grains.Customers;

/// <summary>
/// The customer's idempotency keys: an <see cref="IdempotencyWindow"/> filled from the log's own key store, not from
/// retained events — a Stripe retry three days later must still find its first delivery after the event itself has
/// aged out, a reactivation, or (in distributed mode) the loss of the silo. Loaded by the first append that carries a
/// key, not at activation: readers never pay for them.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed partial class IdempotencyKeys(IEventLog log, string customer, CustomerOptions options, TimeProvider time, ILogger logger)
{
    private readonly IdempotencyWindow _window = new(options.IdempotencyWindow, options.IdempotencyMaxKeys);
    private Task? _loading;

    /// <summary>Completes once the keys are loaded; a failed load is tried again by the next caller.</summary>
    public Task EnsureLoadedAsync()
    {
        if (_loading is { IsCompletedSuccessfully: true })
        {
            return Task.CompletedTask;
        }

        if (_loading is null || _loading.IsFaulted || _loading.IsCanceled)
        {
            _loading = LoadAsync();
        }

        return _loading;
    }

    public bool TryGet(string source, string key, DateTimeOffset now, out AppendResult first) => _window.TryGet(source, key, now, out first);

    public void Remember(EventEnvelope kept) => _window.Remember(kept);

    private async Task LoadAsync()
    {
        var now = time.GetUtcNow();
        foreach (var remembered in await log.ReadKeysAsync(customer, now - options.IdempotencyWindow, options.IdempotencyMaxKeys))
        {
            _window.Remember(remembered);
        }

        Log.KeysLoaded(logger, customer, _window.Count);
    }

    private static partial class Log
    {
        [LoggerMessage(7, LogLevel.Debug, "Customer {Customer} loaded {Keys} idempotency keys")]
        public static partial void KeysLoaded(ILogger logger, string customer, int keys);
    }
}
