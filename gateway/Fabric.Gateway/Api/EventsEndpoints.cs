using System.Runtime.InteropServices;
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
    /// <summary>The source recorded for events published through the API.</summary>
    public const string ApiSource = "api";

    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;

    /// <summary>Publish (<c>POST</c>) and history (<c>GET</c>) under <c>/v1/customers/{customer}/events</c>.</summary>
    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/customers/{customer}/events")
            .ValidateCustomerId()
            .MapClusterFailures()
            .AddEndpointFilter(RequireRegisteredCustomer)
            .RequireRateLimiting(RateLimits.PerCustomer)
            .WithTags("Events")
            .DisableAntiforgery();
        group.MapPost("/", PublishAsync).RequireAuthorization(FabricClaims.PublishPolicy);
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
        if (!JsonBody.IsJsonMediaType(request.ContentType))
        {
            return Problems.UnsupportedMediaType("Publish bodies must be application/json.");
        }

        var limit = options.Value.MaxBodyBytes;
        var body = await BodyReader.ReadAsync(request, limit, cancellationToken);
        if (body is null)
        {
            return Problems.TooLarge(limit);
        }

        JsonDocument document;
        try
        {
            // Invalid UTF-8 inside strings would pass the parser and break every socket frame the event is written to.
            if (!System.Text.Unicode.Utf8.IsValid(body))
            {
                return Problems.BadRequest("invalid-json", "The body is not valid UTF-8 JSON.");
            }

            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return Problems.BadRequest("invalid-json", "The body is not a valid JSON document.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Problems.BadRequest("invalid-body", "The body must be an object: {\"type\": \"...\", \"data\": ..., \"id\": \"optional key\"}.");
            }

            if (!root.TryGetProperty("type"u8, out var typeElement) || typeElement.ValueKind != JsonValueKind.String
                || typeElement.GetString() is not { } type || !Names.IsValidType(type))
            {
                return Problems.BadRequest("invalid-type", "\"type\" is required: 1-200 printable ASCII characters without spaces or '*'.");
            }

            if (!root.TryGetProperty("data"u8, out var data))
            {
                return Problems.BadRequest("missing-data", "\"data\" is required (any JSON value).");
            }

            string? key = null;
            if (root.TryGetProperty("id"u8, out var id) && id.ValueKind != JsonValueKind.Null)
            {
                key = id.ValueKind == JsonValueKind.String ? id.GetString() : null;
                if (!Names.IsValidKey(key))
                {
                    return Problems.BadRequest("invalid-idempotency-key", "\"id\" must be 1-256 printable ASCII characters without spaces.");
                }
            }

            var payload = JsonMarshal.GetRawUtf8Value(data).ToArray();
            var incoming = new IncomingEvent(ApiSource, type, "application/json", payload, key, TraceParent: null);
            return await ingestor.IngestAsync(customer, incoming);
        }
    }

    private static async Task<IResult> HistoryAsync(string customer, long? after, int? limit, CustomerGrains grains)
    {
        if (after < 0 || limit is < 1 or > MaxLimit)
        {
            return Problems.BadRequest("invalid-range", $"'after' must be >= 0 and 'limit' between 1 and {MaxLimit}.");
        }

        var page = await grains.Get(customer).GetSince(after ?? 0, limit ?? DefaultLimit);
        return new HistoryResult(customer, after ?? 0, page);
    }

    /// <summary>Streams the page straight to the response so payloads are written raw, not re-serialized.</summary>
    private sealed class HistoryResult(string customer, long after, EventPage page) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
            writer.WriteStartObject();
            writer.WriteString("customer"u8, customer);
            writer.WriteStartArray("events"u8);
            foreach (var e in page.Events)
            {
                EventJson.Write(writer, e, asFrame: false);
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
