using Orleans.Concurrency;

namespace Fabric.Contracts;

/// <summary>
/// The one place a customer's events are ordered, de-duplicated, kept and pushed from. Keyed by customer id.
/// </summary>
[Alias("fabric.ICustomerGrain")]
public interface ICustomerGrain : IGrainWithStringKey
{
    /// <summary>Accepts an event, or returns the first one with the same idempotency key; completes once it is kept.</summary>
    [Alias("Append")]
    Task<AppendResult> Append(IncomingEvent incoming);

    /// <summary>
    /// Accepts several events in one call: those accepted get consecutive seqs in the given order and share log
    /// writes; each answer is at the same index as its event (repeats answer with the first event).
    /// </summary>
    [Alias("AppendBatch")]
    Task<IReadOnlyList<AppendResult>> AppendBatch(IReadOnlyList<IncomingEvent> events);

    /// <summary>Returns up to <paramref name="max"/> retained events with seq greater than <paramref name="afterSeq"/>.</summary>
    [Alias("GetSince")]
    Task<EventPage> GetSince(long afterSeq, int max);

    /// <summary>
    /// Registers (or renews) a gateway's observer; returns the customer's newest seq and the log's epoch at that moment.
    /// </summary>
    /// <param name="gatewayId">Stable id of the gateway process.</param>
    /// <param name="generation">Increases with every registration change of that gateway; older ones are ignored.</param>
    /// <param name="observer">Where pushes go.</param>
    /// <param name="released">
    /// The last event the gateway released, if any: a witness. A log found behind it (or holding another event at its
    /// seq) lost events it had handed out, and starts a new epoch instead of handing their seqs out again.
    /// </param>
    [Alias("Subscribe")]
    Task<Registration> Subscribe(string gatewayId, long generation, IGatewayObserver observer, LogPosition? released);

    /// <summary>Removes a gateway's observer unless a newer registration of the same gateway has arrived.</summary>
    [Alias("Unsubscribe")]
    Task Unsubscribe(string gatewayId, long generation);

    /// <summary>
    /// Admits a socket session unless the customer already holds <paramref name="limit"/> sessions across all gateways;
    /// an admitted one is registered (listed, counted, seen by presence).
    /// </summary>
    [Alias("Connect")]
    Task<SessionAdmission> Connect(SessionInfo session, int limit);

    /// <summary>Replaces what a session holds (its topics and watched topics); registers it when the grain lost it.</summary>
    [Alias("UpdateSession")]
    Task UpdateSession(SessionInfo session);

    /// <summary>Removes a session that ended.</summary>
    [Alias("Disconnect")]
    Task Disconnect(string gatewayId, string session);

    /// <summary>Replaces every session of one gateway (after this activation lost them, or they drifted).</summary>
    [Alias("SyncSessions")]
    Task SyncSessions(string gatewayId, IReadOnlyList<SessionInfo> sessions);

    /// <summary>Every live session of the customer, on every gateway.</summary>
    [Alias("GetSessions")]
    Task<IReadOnlyList<SessionInfo>> GetSessions();

    /// <summary>The members of a topic: sessions holding a topic that matches it, one entry per <c>sub</c>.</summary>
    [Alias("GetPresence")]
    Task<IReadOnlyList<PresenceMember>> GetPresence(string topic);

    /// <summary>Closes a session on whichever gateway holds it; false when no such session is registered.</summary>
    [Alias("Kick")]
    Task<bool> Kick(string session);

    /// <summary>
    /// Registers an outbound endpoint: it is told of every append from now on, and holds back the log's trim while it
    /// lags (up to the customer's hold-back bounds). Returns the customer's newest seq.
    /// </summary>
    [Alias("AddEndpoint")]
    Task<long> AddEndpoint(string endpoint, long cursor);

    /// <summary>Forgets an endpoint: no more notices, no more hold-back.</summary>
    [Alias("RemoveEndpoint")]
    Task RemoveEndpoint(string endpoint);

    /// <summary>The customer's endpoint ids.</summary>
    [Alias("GetEndpoints")]
    Task<IReadOnlyList<string>> GetEndpoints();

    /// <summary>
    /// Attaches a Wasm module to a source (replacing the one before, between two events), after checking and compiling
    /// it and running its <c>init</c>; a refused module changes nothing and the answer says why.
    /// </summary>
    [Alias("SetTransform")]
    Task<Transforms.TransformAttach> SetTransform(string source, Transforms.TransformSettings settings);

    /// <summary>The source's module with its counters and last errors, or null when none is attached.</summary>
    [Alias("GetTransform")]
    Task<Transforms.TransformView?> GetTransform(string source);

    /// <summary>Detaches the source's module; false when none was attached.</summary>
    [Alias("RemoveTransform")]
    Task<bool> RemoveTransform(string source);

    /// <summary>An endpoint has settled every event up to <paramref name="cursor"/>: the log may trim up to there.</summary>
    [OneWay, Alias("EndpointProgress")]
    Task EndpointProgress(string endpoint, long cursor);
}

/// <summary>The answer to <see cref="ICustomerGrain.Subscribe"/>.</summary>
/// <param name="LastSeq">The customer's newest seq.</param>
/// <param name="Epoch">The log's epoch.</param>
/// <param name="Sessions">How many sessions of the registering gateway the grain holds: a gateway holding another number
/// hands its sessions over with <see cref="ICustomerGrain.SyncSessions"/>.</param>
[GenerateSerializer, Immutable, Alias("fabric.Registration")]
public sealed record Registration([property: Id(0)] long LastSeq, [property: Id(1)] LogEpoch Epoch, [property: Id(2)] int Sessions = 0);
