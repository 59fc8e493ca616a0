namespace Fabric.Contracts;

/// <summary>An event as the gateway hands it to the customer's grain, before it has a seq.</summary>
/// <param name="Source">Webhook source name, or <c>api</c>.</param>
/// <param name="Type">Event type (already validated by the gateway).</param>
/// <param name="ContentType">Media type of <paramref name="Data"/>.</param>
/// <param name="Data">Payload bytes, kept as received.</param>
/// <param name="IdempotencyKey">Producer key; a repeat within the window returns the first event.</param>
/// <param name="TraceParent">W3C traceparent of the ingest span.</param>
/// <param name="CloudEvent">The CloudEvents context, when the event arrived as a CloudEvent.</param>
[GenerateSerializer, Immutable, Alias("fabric.IncomingEvent")]
public sealed record IncomingEvent(
    [property: Id(0)] string Source,
    [property: Id(1)] string Type,
    [property: Id(2)] string ContentType,
    [property: Id(3)] byte[] Data,
    [property: Id(4)] string? IdempotencyKey,
    [property: Id(5)] string? TraceParent,
    [property: Id(6)] CloudEventAttributes? CloudEvent = null);

/// <summary>
/// The grain's answer to an append: where the event stands and whether it was a repeat — or, when the source's Wasm
/// transform said so, that it was dropped (nothing stored, <see cref="Seq"/> 0) or rejected (the transform failed and
/// its policy is <c>reject</c>; nothing stored, <see cref="Rejected"/> names the error's kind).
/// </summary>
[GenerateSerializer, Immutable, Alias("fabric.AppendResult")]
public sealed record AppendResult(
    [property: Id(0)] string Id,
    [property: Id(1)] long Seq,
    [property: Id(2)] bool Duplicate,
    [property: Id(3)] bool Dropped = false,
    [property: Id(4)] string? Rejected = null);
