using Fabric.Contracts;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Events;

/// <summary>Hands a validated event to its customer's grain and shapes the 202 both ingest paths answer with.</summary>
internal sealed partial class EventIngestor(CustomerGrains grains, AppendCoalescer coalescer, ILogger<EventIngestor> logger)
{
    public async Task<IResult> IngestAsync(string customer, IncomingEvent incoming) => await AppendAsync(customer, incoming) switch
    {
        null => Problems.Unavailable("The event could not be confirmed as stored; retry with the same idempotency key."),
        { Rejected: { } kind } => Problems.TransformRejected(kind),
        { Dropped: true } => Accepted(new IngestResponse(null, null, false, Dropped: true)),
        var result => Accepted(new IngestResponse(result.Id, result.Seq, result.Duplicate)),
    };

    /// <summary>
    /// Appends one event under an ingest span (webhooks, the publish API, socket publishes); null when the cluster could
    /// not confirm it — an unknown outcome, which the producer settles by retrying with the same idempotency key.
    /// </summary>
    public async Task<AppendResult?> AppendAsync(string customer, IncomingEvent incoming)
    {
        using var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.IngestSpan);
        activity?.SetTag(GatewayTelemetry.CustomerTag, customer);
        activity?.SetTag(GatewayTelemetry.SourceTag, incoming.Source);
        var withTrace = incoming with { TraceParent = activity?.Id ?? System.Diagnostics.Activity.Current?.Id };
        AppendResult result;
        try
        {
            result = await coalescer.AppendAsync(customer, withTrace);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            Log.AppendFailed(logger, ex, customer);
            return null;
        }

        if (result.Dropped || result.Rejected is not null)
        {
            activity?.SetTag("fabric.transform", result.Dropped ? "dropped" : "rejected");
            // A rejection is counted where it is answered (fabric.gateway.rejected, by surface); a drop is no refusal.
            if (result.Dropped)
            {
                GatewayTelemetry.Dropped.Add(1);
            }

            return result;
        }

        activity?.SetTag(GatewayTelemetry.SeqTag, result.Seq);
        GatewayTelemetry.Ingested.Add(1, new KeyValuePair<string, object?>("duplicate", result.Duplicate));
        return result;
    }

    /// <summary>Appends a batch's valid events in one grain call; refused ones keep their place with their problem.</summary>
    public async Task<IResult> IngestBatchAsync(string customer, IReadOnlyList<BatchItem> items)
    {
        using var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.IngestSpan);
        activity?.SetTag(GatewayTelemetry.CustomerTag, customer);
        activity?.SetTag("fabric.batch", items.Count);
        var traceParent = activity?.Id ?? System.Diagnostics.Activity.Current?.Id;
        var valid = items.Where(i => i.Event is not null).Select(i => i.Event! with { TraceParent = traceParent }).ToList();
        IReadOnlyList<AppendResult> appended = [];
        if (valid.Count > 0)
        {
            try
            {
                appended = await grains.Get(customer).AppendBatch(valid);
            }
            catch (Exception ex) when (ClusterFailure.Is(ex))
            {
                Log.AppendFailed(logger, ex, customer);
                return Problems.Unavailable("The batch could not be confirmed as stored; retry it with the same idempotency keys.");
            }
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

        GatewayTelemetry.Dropped.Add(appended.Count(r => r.Dropped));

        GatewayTelemetry.Ingested.Add(appended.Count(r => !r.Duplicate && !r.Dropped && r.Rejected is null), new KeyValuePair<string, object?>("duplicate", false));
        GatewayTelemetry.Ingested.Add(appended.Count(r => r.Duplicate), new KeyValuePair<string, object?>("duplicate", true));
        return new JsonAnswer<BatchResponse>(new BatchResponse(results), Api.ApiJsonContext.Default.BatchResponse, StatusCodes.Status202Accepted);
    }

    private static JsonAnswer<IngestResponse> Accepted(IngestResponse response) => new(response, Api.ApiJsonContext.Default.IngestResponse, StatusCodes.Status202Accepted);

    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Warning, "Append for customer {Customer} failed")]
        public static partial void AppendFailed(ILogger logger, Exception exception, string customer);
    }
}

/// <summary>The 202 body of both ingest paths: the kept event, or <c>dropped</c> (by the source's transform: nothing stored, no id or seq).</summary>
internal sealed record IngestResponse(
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Id,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? Seq,
    bool Duplicate,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] bool? Dropped = null);
