using Orleans.Concurrency;

namespace Fabric.Contracts;

/// <summary>
/// Implemented once per gateway process. Pushes are best effort and may arrive out of order: the gateway orders
/// them by seq and fills gaps from <see cref="ICustomerGrain.GetSince"/>.
/// </summary>
[Alias("fabric.IGatewayObserver")]
public interface IGatewayObserver : IGrainObserver
{
    /// <summary>Delivers a batch of one customer's events, in seq order within the batch.</summary>
    [OneWay, Alias("OnEvents")]
    Task OnEvents(EventBatch batch);

    /// <summary>A member joined or left a topic that sessions of this gateway watch.</summary>
    [OneWay, Alias("OnPresence")]
    Task OnPresence(PresenceChange change);

    /// <summary>An operator asked for a session to be closed.</summary>
    [OneWay, Alias("OnKick")]
    Task OnKick(string customer, string session);
}

/// <summary>
/// A batch of one customer's events pushed to a gateway, with the epoch their seqs belong to, and the W3C traceparent
/// of the grain's push span (in the trace of the batch's first event), parent of that event's delivery.
/// </summary>
[GenerateSerializer, Immutable, Alias("fabric.EventBatch")]
public sealed record EventBatch(
    [property: Id(0)] string Customer,
    [property: Id(1)] IReadOnlyList<EventEnvelope> Events,
    [property: Id(2)] LogEpoch Epoch,
    [property: Id(3)] string? TraceParent = null);
