namespace Fabric.Contracts;

/// <summary>A slice of a customer's retained history.</summary>
/// <param name="Events">Events after the requested seq, in seq order, at most the requested count.</param>
/// <param name="FirstRetainedSeq">The oldest seq still retained (LastSeq + 1 when nothing is retained).</param>
/// <param name="LastSeq">The newest seq the customer has (0 before the first event).</param>
/// <param name="Complete">
/// False when events after the requested seq were already dropped by retention, so the page starts later than asked.
/// </param>
/// <param name="Epoch">The log's epoch: seqs in this page are meaningful within it (see <see cref="LogEpoch"/>).</param>
[GenerateSerializer, Immutable, Alias("fabric.EventPage")]
public sealed record EventPage(
    [property: Id(0)] IReadOnlyList<EventEnvelope> Events,
    [property: Id(1)] long FirstRetainedSeq,
    [property: Id(2)] long LastSeq,
    [property: Id(3)] bool Complete,
    [property: Id(4)] LogEpoch Epoch);
