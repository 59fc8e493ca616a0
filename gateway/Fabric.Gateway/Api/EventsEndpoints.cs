using System.Text.Json;
using Fabric.Contracts;
using Fabric.Gateway.Auth;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Fabric.Gateway.Webhooks;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Api;

internal static class EventsEndpoints
{
    /// <summary>Most events in one batch publish (the body limit applies too).</summary>


    /// <summary>Publish (<c>POST</c>) and history (<c>GET</c>) under <c>/v1/customers/{customer}/events</c>.</summary>
    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/customers/{customer}/events")
            .ValidateCustomerId()
            .MapClusterFailures()
            .AddEndpointFilter(RequireRegisteredCustomer)
            .ChargeCustomerRate()
            .WithTags("Events")
            .DisableAntiforgery();
        group.MapPost("/", PublishAsync).RequireAuthorization(FabricClaims.PublishPolicy);
        group.MapPost("/batch", PublishBatchAsync).RequireAuthorization(FabricClaims.PublishPolicy);
        group.MapGet("/", HistoryAsync).RequireAuthorization(FabricClaims.HistoryPolicy);
        return group;
    }

    /// <summary>
    /// An API key only exists for a registered customer; an admin key may name any id, and an unregistered one is
    /// refused here so that nothing is ever stored for it.
    /// </summary>
    private static async ValueTask<object?> RequireRegisteredCustomer(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.GetRouteValue("customer") is string customer
            && await http.RequestServices.GetRequiredService<CustomerDirectory>().GetAsync(customer) is null)
        {
            return Problems.UnknownCustomer();
        }

        return await next(context);
    }

    private static async Task<IResult> PublishAsync(
        string customer, HttpRequest request, EventIngestor ingestor, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var (document, invalid) = await PublishedEvent.ReadAsync(request, options.Value.MaxBodyBytes, cancellationToken);
        if (invalid is not null)
        {
            return invalid;
        }

        using (document)
        {
            if (PublishedEvent.TryRead(document!.RootElement, out var incoming) is { } problem)
            {
                return problem;
            }

            return await ingestor.IngestAsync(customer, incoming!);
        }
    }

    /// <summary>
    /// <c>POST …/events/batch</c> with <c>{"events": [...]}</c>: every valid event appended in one grain call with
    /// consecutive seqs; one result per event, in request order, an error for each invalid one (nothing of it stored).
    /// </summary>
    private static async Task<IResult> PublishBatchAsync(
        string customer, HttpRequest request, EventIngestor ingestor, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var (document, invalid) = await PublishedEvent.ReadAsync(request, options.Value.MaxBodyBytes, cancellationToken);
        if (invalid is not null)
        {
            return invalid;
        }

        using (document)
        {
            var root = document!.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("events"u8, out var events) || events.ValueKind != JsonValueKind.Array)
            {
                return Problems.BadRequest("invalid-body", "The body must be {\"events\": [{\"type\": ..., \"data\": ..., \"id\": ...}, ...]}.");
            }

            var count = events.GetArrayLength();
            if (count is 0 or > EventIngestor.MaxBatchEvents)
            {
                return Problems.BadRequest("invalid-batch-size", $"A batch holds 1 to {EventIngestor.MaxBatchEvents} events.");
            }

            var items = new List<BatchItem>(count);
            foreach (var element in events.EnumerateArray())
            {
                var problem = PublishedEvent.TryRead(element, out var incoming);
                items.Add(new BatchItem(incoming, problem));
            }

            return await ingestor.IngestBatchAsync(customer, items);
        }
    }

    private static async Task<IResult> HistoryAsync(string customer, long? after, int? limit, CustomerGrains grains)
    {
        if (after is < 0 or > InputRules.MaxSeq || !Paging.IsValid(limit))
        {
            return Problems.BadRequest("invalid-range", $"'after' must be a seq from 0 to {InputRules.MaxSeq} and 'limit' between 1 and {Paging.MaxLimit}.");
        }

        var page = await grains.Get(customer).GetSince(after ?? 0, Paging.Take(limit));
        return new HistoryResult(customer, after ?? 0, page);
    }

    /// <summary>
    /// Streams the page to the response as it is written: payloads go out raw, not re-serialized, and no more than about
    /// <see cref="FlushBytes"/> waits in the response buffer, whatever the page holds (the page itself is bounded by
    /// <c>Fabric:Customers:PageMaxBytes</c>).
    /// </summary>
    private sealed class HistoryResult(string customer, long after, EventPage page) : IResult
    {
        private const int FlushBytes = 64 * 1024;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
            writer.WriteStartObject();
            writer.WriteString("customer"u8, customer);
            writer.WriteString("epoch"u8, page.Epoch.Id);
            writer.WriteStartArray("events"u8);
            long flushed = 0;
            foreach (var e in page.Events)
            {
                EventJson.Write(writer, e, asFrame: false);
                var written = writer.BytesCommitted + writer.BytesPending;
                if (written - flushed >= FlushBytes)
                {
                    // Out to the client now: the response pipe would otherwise hold the whole page until the end.
                    await writer.FlushAsync(httpContext.RequestAborted);
                    flushed = written;
                }
            }

            writer.WriteEndArray();
            writer.WriteNumber("next"u8, page.Events.Count > 0 ? page.Events[^1].Seq : Math.Max(after, Math.Min(page.LastSeq, page.FirstRetainedSeq - 1)));
            writer.WriteNumber("firstRetainedSeq"u8, page.FirstRetainedSeq);
            writer.WriteNumber("lastSeq"u8, page.LastSeq);
            writer.WriteBoolean("complete"u8, page.Complete);
            writer.WriteEndObject();
            await writer.FlushAsync();
        }
    }
}
