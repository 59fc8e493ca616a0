using Fabric.Contracts;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Fabric.Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Webhooks;

internal static class WebhookEndpoints
{
    public static WebApplicationBuilder AddFabricWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        return builder;
    }

    /// <summary><c>POST /v1/webhooks/{customer}/{source}</c>: verified against the source's scheme, kept byte for byte.</summary>
    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/webhooks")
            .ValidateCustomerId()
            .MapClusterFailures()
            .RequireRateLimiting(RateLimits.PerCustomer)
            .WithTags("Webhooks")
            .DisableAntiforgery();
        group.MapPost("/{customer}/{source}", ReceiveAsync);
        return group;
    }

    private static async Task<IResult> ReceiveAsync(
        string customer, string source, HttpRequest request, CustomerDirectory directory,
        EventIngestor ingestor, IOptions<WebhookOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Names.IsValidId(source))
        {
            return Problems.InvalidSource();
        }

        // Unknown customer and unknown source get the same answer, before the body is read.
        if ((await directory.GetAsync(customer))?.Source(source) is not { } configured)
        {
            GatewayTelemetry.Rejected.Add(1, new KeyValuePair<string, object?>("reason", "unknown-source"));
            return Problems.UnknownSource();
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

        // Over the raw bytes as received: nothing is parsed or re-encoded before the signature is checked.
        var scheme = configured.Scheme;
        var verification = scheme.Verify(request.Headers, body, configured.Keys, time.GetUtcNow().ToUnixTimeSeconds());
        if (!verification.Passed)
        {
            GatewayTelemetry.SignatureFailures.Add(1, new KeyValuePair<string, object?>("scheme", scheme.Name), new KeyValuePair<string, object?>("reason", verification.Problem));
            return Problems.Signature(verification.Problem!, verification.Detail!);
        }

        if (!JsonBody.TryInspect(body, out BodyFacts facts))
        {
            return Problems.BadRequest("invalid-json", "The body is not a valid JSON document.");
        }

        // Slack checks a new Events API URL with a signed challenge: answered, never stored.
        if (scheme.Name == "slack" && facts.Type == "url_verification" && facts.Challenge is { } challenge)
        {
            return TypedResults.Ok(new SlackChallenge(challenge));
        }

        var key = scheme.IdempotencyKey(request.Headers, facts);
        if (key is not null && !Names.IsValidKey(key))
        {
            return Problems.BadRequest("invalid-idempotency-key", "The idempotency key must be 1-256 printable ASCII characters without spaces.");
        }

        var type = scheme.EventType(request.Headers, facts) ?? options.Value.DefaultEventType;
        if (!Names.IsValidType(type))
        {
            return Problems.BadRequest("invalid-type", "The event type must be 1-200 printable ASCII characters without spaces or '*'.");
        }

        var incoming = new IncomingEvent(source, type, request.ContentType ?? "application/json", body, key, TraceParent: null);
        return await ingestor.IngestAsync(customer, incoming);
    }
}

/// <summary>The answer to Slack's <c>url_verification</c>.</summary>
internal sealed record SlackChallenge(string Challenge);
