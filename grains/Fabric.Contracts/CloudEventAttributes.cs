namespace Fabric.Contracts;

/// <summary>
/// The CloudEvents 1.0 context of an event that arrived as one; the CloudEvent's <c>type</c> is the event's type and
/// its <c>data</c> the payload, so they are not repeated here.
/// </summary>
/// <param name="Id">The producer's <c>id</c> (unique within its <c>source</c>).</param>
/// <param name="Source">The producer's <c>source</c> URI-reference.</param>
/// <param name="SpecVersion">Always <c>1.0</c> today.</param>
/// <param name="Subject">Optional <c>subject</c>.</param>
/// <param name="Time">Optional <c>time</c> the producer gave.</param>
/// <param name="DataSchema">Optional <c>dataschema</c>.</param>
[GenerateSerializer, Immutable, Alias("fabric.CloudEventAttributes")]
public sealed record CloudEventAttributes(
    [property: Id(0)] string Id,
    [property: Id(1)] string Source,
    [property: Id(2)] string SpecVersion,
    [property: Id(3)] string? Subject,
    [property: Id(4)] DateTimeOffset? Time,
    [property: Id(5)] string? DataSchema);
