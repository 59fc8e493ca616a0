using Fabric.Contracts;
using Fabric.Gateway.Http;

namespace Fabric.Gateway.Events;

/// <summary>What an ingest answers over HTTP (webhooks and the publish API): the one place appends become responses.</summary>
internal static class IngestResults
{
    /// <summary>202 with the kept event (or <c>dropped</c>), 422 for a transform's rejection, 503 when the outcome is unknown.</summary>
    public static async Task<IResult> IngestAsync(this EventIngestor ingestor, string customer, IncomingEvent incoming) =>
        await ingestor.AppendAsync(customer, incoming) switch
        {
            null => Problems.Unavailable("The event could not be confirmed as stored; retry with the same idempotency key."),
            { Rejected: { } kind } => Problems.TransformRejected(kind),
            { Dropped: true } => Accepted(new IngestResponse(null, null, false, Dropped: true)),
            var result => Accepted(new IngestResponse(result.Id, result.Seq, result.Duplicate)),
        };

    /// <summary>Appends a batch's valid events in one grain call; refused ones keep their place with their problem.</summary>
    public static async Task<IResult> IngestBatchAsync(this EventIngestor ingestor, string customer, IReadOnlyList<BatchItem> items)
    {
        var appended = await ingestor.AppendBatchAsync(customer, [.. items.Where(i => i.Event is not null).Select(i => i.Event!)]);
        if (appended is null)
        {
            return Problems.Unavailable("The batch could not be confirmed as stored; retry it with the same idempotency keys.");
        }

        var results = new List<BatchResult>(items.Count);
        var next = 0;
        foreach (var item in items)
        {
            var result = item.Event is null ? null : appended[next++];
            var problem = result is null ? item.Problem! : result.Rejected is { } kind ? Problems.TransformRejected(kind) : null;
            results.Add(problem is not null ? BatchResult.From(problem) : BatchResult.From(result!));
            if (problem?.ProblemDetails.Type is { } type)
            {
                // The batch is answered 202 whatever its items: their refusals are counted here, one by one.
                RejectionMeter.Count("api", RejectionMeter.Reason(type));
            }
        }

        return new JsonAnswer<BatchResponse>(new BatchResponse(results), EventsJsonContext.Default.BatchResponse, StatusCodes.Status202Accepted);
    }

    private static JsonAnswer<IngestResponse> Accepted(IngestResponse response) => new(response, EventsJsonContext.Default.IngestResponse, StatusCodes.Status202Accepted);
}

/// <summary>The 202 body of both ingest paths: the kept event, or <c>dropped</c> (by the source's transform: nothing stored, no id or seq).</summary>
internal sealed record IngestResponse(
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Id,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? Seq,
    bool Duplicate,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] bool? Dropped = null);
