using Fabric.Contracts;
using Orleans.Streams;

namespace Fabric.Grains.Customers;

internal sealed partial class CustomerGrain
{
    private readonly List<EventEnvelope> _pending = [];
    private IGrainTimer? _pushTimer;
    private bool _flushScheduled;
    private IAsyncStream<EventEnvelope>? _stream;

    /// <summary>
    /// Queues an accepted event for pushing. The flush runs as a timer tick, which Orleans queues behind the requests
    /// already waiting for this activation: under load many appends share one push, when idle the push follows at once.
    /// </summary>
    private void EnqueuePush(EventEnvelope envelope)
    {
        _pending.Add(envelope);
        if (!_flushScheduled)
        {
            _flushScheduled = true;
            _pushTimer?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        _flushScheduled = false;
        if (_pending.Count == 0)
        {
            return;
        }

        var events = _pending.ToArray();
        _pending.Clear();
        foreach (var chunk in events.Chunk(_options.PushBatchMax))
        {
            var batch = new EventBatch(Customer, chunk);
            // One-way: a dead gateway costs nothing here; it drops out when it stops renewing (ObserverExpiry).
            await _gateways.Notify(o => o.OnEvents(batch));
            GrainsTelemetry.Pushes.Add(1);
        }

        if (_options.PublishToStream)
        {
            await PublishToStreamAsync(events);
        }
    }

    private async Task PublishToStreamAsync(EventEnvelope[] events)
    {
        _stream ??= this.GetStreamProvider(FabricStreams.ProviderName)
            .GetStream<EventEnvelope>(StreamId.Create(FabricStreams.CustomerEvents, Customer));
        try
        {
            // Awaited one by one: the stream keeps per-producer order only when each publish completes first.
            foreach (var e in events)
            {
                await _stream.OnNextAsync(e);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The events are kept and pushed already; a stream hiccup must not fail ingestion.
            Log.StreamPublishFailed(_logger, ex, Customer, events.Length);
        }
    }
}
