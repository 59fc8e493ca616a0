namespace Fabric.Contracts;

/// <summary>One event as the customer's grain accepted it: ordered, identified and kept byte for byte.</summary>
/// <param name="Id">Fabric's id for the event (<c>evt_</c> + a time-ordered GUID).</param>
/// <param name="Seq">Position in the customer's log, starting at 1 and increasing by one per event.</param>
/// <param name="Customer">The customer the event belongs to.</param>
/// <param name="Source">Where it came from: the webhook source name, or <c>api</c> for the publish API.</param>
/// <param name="Type">The event type that socket topics match against.</param>
/// <param name="Time">When the grain accepted it.</param>
/// <param name="ContentType">The media type of <paramref name="Data"/> as received.</param>
/// <param name="Data">The payload exactly as received (always JSON today).</param>
/// <param name="IdempotencyKey">The producer's idempotency key, if one was given.</param>
/// <param name="TraceParent">W3C traceparent of the ingest span, so delivery can join the same trace.</param>
/// <param name="CloudEvent">The CloudEvents context, when the event arrived as a CloudEvent.</param>
/// <param name="TransformError">
/// The kind of error (fuel, trap, …) when the source's Wasm transform failed and its policy kept the event unchanged.
/// </param>
/// <param name="Original">The payload as received, when the source's transform replaced it and keeps originals.</param>
[GenerateSerializer, Immutable, Alias("fabric.EventEnvelope")]
public sealed record EventEnvelope(
    [property: Id(0)] string Id,
    [property: Id(1)] long Seq,
    [property: Id(2)] string Customer,
    [property: Id(3)] string Source,
    [property: Id(4)] string Type,
    [property: Id(5)] DateTimeOffset Time,
    [property: Id(6)] string ContentType,
    [property: Id(7)] byte[] Data,
    [property: Id(8)] string? IdempotencyKey,
    [property: Id(9)] string? TraceParent,
    [property: Id(10)] CloudEventAttributes? CloudEvent = null,
    [property: Id(11)] string? TransformError = null,
    [property: Id(12)] byte[]? Original = null);
