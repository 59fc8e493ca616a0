using Fabric.Contracts;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;
using Fabric.Gateway.Telemetry;

namespace Fabric.Gateway.Events;

/// <summary>
/// Hands validated events to their customer's grain, traced and counted; what the grain answered comes back as it is
/// (<see cref="IngestResults"/> maps it to HTTP, sockets to frames).
/// </summary>
internal sealed partial class EventIngestor(CustomerGrains grains, AppendCoalescer coalescer, ILogger<EventIngestor> logger)
{
    /// <summary>The most events one batch request (the publish API, a CloudEvents batch) may hold.</summary>
    public const int MaxBatchEvents = 1000;

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

    /// <summary>
    /// Appends a batch's events in one grain call under one ingest span; null when the cluster could not confirm them
    /// (the producer retries the batch with the same idempotency keys).
    /// </summary>
    public async Task<IReadOnlyList<AppendResult>?> AppendBatchAsync(string customer, IReadOnlyList<IncomingEvent> events)
    {
        using var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.IngestSpan);
        activity?.SetTag(GatewayTelemetry.CustomerTag, customer);
        activity?.SetTag("fabric.batch", events.Count);
        if (events.Count == 0)
        {
            return [];
        }

        var traceParent = activity?.Id ?? System.Diagnostics.Activity.Current?.Id;
        IReadOnlyList<AppendResult> appended;
        try
        {
            appended = await grains.Get(customer).AppendBatch([.. events.Select(e => e with { TraceParent = traceParent })]);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            Log.AppendFailed(logger, ex, customer);
            return null;
        }

        GatewayTelemetry.Dropped.Add(appended.Count(r => r.Dropped));
        GatewayTelemetry.Ingested.Add(appended.Count(r => !r.Duplicate && !r.Dropped && r.Rejected is null), new KeyValuePair<string, object?>("duplicate", false));
        GatewayTelemetry.Ingested.Add(appended.Count(r => r.Duplicate), new KeyValuePair<string, object?>("duplicate", true));
        return appended;
    }

    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Warning, "Append for customer {Customer} failed")]
        public static partial void AppendFailed(ILogger logger, Exception exception, string customer);
    }
}
