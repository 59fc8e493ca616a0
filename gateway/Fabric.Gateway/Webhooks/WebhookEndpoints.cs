using Fabric.Contracts;
using Fabric.Gateway.Ingest;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Webhooks;

internal static class WebhookEndpoints
{
    public static WebApplicationBuilder AddFabricWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        builder.Services.AddSingleton<WebhookSources>();
        builder.Services.AddSingleton<CustomerGrains>();
        builder.Services.AddSingleton<EventIngestor>();
        return builder;
    }

    /// <summary><c>POST /v1/webhooks/{customer}/{source}</c>: any JSON body, kept byte for byte.</summary>
    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/webhooks");
        group.MapPost("/{customer}/{source}", ReceiveAsync).DisableAntiforgery();
        return group;
    }

    private static async Task<IResult> ReceiveAsync(
        string customer, string source, HttpRequest request, WebhookSources sources,
        EventIngestor ingestor, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        if (!Names.IsValidId(customer))
        {
            return Problems.InvalidCustomer();
        }

        if (!Names.IsValidId(source))
        {
            return Problems.BadRequest("invalid-source", "The source name must be " + Names.IdRule + ".");
        }

        // A declared non-JSON type is refused before reading; an undeclared one must still parse as JSON.
        if (request.ContentType is { Length: > 0 } declared && !JsonBody.IsJsonMediaType(declared))
        {
            return Problems.UnsupportedMediaType("Webhook bodies must be JSON (application/json or a +json type).");
        }

        var limit = options.Value.MaxBodyBytes;
        var body = await BodyReader.ReadAsync(request, limit, cancellationToken);
        if (body is null)
        {
            return Problems.TooLarge(limit);
        }

        if (!JsonBody.TryInspect(body, out var bodyType))
        {
            return Problems.BadRequest("invalid-json", "The body is not a valid JSON document.");
        }

        var handler = sources.Resolve(source);
        if (await handler.VerifyAsync(request, body) is { } rejection)
        {
            return rejection;
        }

        var key = handler.IdempotencyKey(request);
        if (key is not null && !Names.IsValidKey(key))
        {
            return Problems.BadRequest("invalid-idempotency-key", "The idempotency key must be 1-256 printable ASCII characters without spaces.");
        }

        var type = handler.HeaderEventType(request) ?? bodyType ?? options.Value.DefaultEventType;
        if (!Names.IsValidType(type))
        {
            return Problems.BadRequest("invalid-type", "The event type must be 1-200 printable ASCII characters without spaces or '*'.");
        }

        var incoming = new IncomingEvent(source, type, request.ContentType ?? "application/json", body, key, TraceParent: null);
        return await ingestor.IngestAsync(customer, incoming);
    }
}
