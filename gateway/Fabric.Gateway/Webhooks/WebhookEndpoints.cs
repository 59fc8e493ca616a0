using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Fabric.Gateway.Telemetry;
using Fabric.Gateway.Webhooks.Verification;
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
            .WithTags("Webhooks")
            .DisableAntiforgery();
        // Verified by signature, never by credential: run as soon as routing matches, skipping authentication,
        // authorization and the socket middleware, which only cost a webhook (a DI scope and its handlers).
        group.ShortCircuit();
        group.MapPost("/{customer}/{source}", ReceiveAsync);
        group.MapMethods("/{customer}/{source}", [HttpMethods.Options], HandshakeAsync);
        return group;
    }

    /// <summary>
    /// The CloudEvents webhook validation handshake: a sender asks with <c>OPTIONS</c> and <c>WebHook-Request-Origin</c>
    /// whether it may deliver here; a configured source says yes, with the customer's rate in requests per minute.
    /// </summary>
    private static async Task<IResult> HandshakeAsync(string customer, string source, HttpContext context, CustomerDirectory directory)
    {
        if (!InputRules.IsValidId(source) || (await directory.GetAsync(customer))?.Source(source) is null)
        {
            return Problems.UnknownSource();
        }

        var response = context.Response;
        response.Headers.Allow = "POST, OPTIONS";
        if (context.Request.Headers["WebHook-Request-Origin"].ToString() is { Length: > 0 } origin)
        {
            response.Headers["WebHook-Allowed-Origin"] = origin;
            var rate = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.PermitsPerSecond;
            response.Headers["WebHook-Allowed-Rate"] = rate <= 0 ? "*" : (rate * 60L).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return TypedResults.Ok();
    }

    private static async Task<IResult> ReceiveAsync(
        string customer, string source, HttpRequest request, CustomerDirectory directory,
        EventIngestor ingestor, RateLimits rateLimits, IOptions<WebhookOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!InputRules.IsValidId(source))
        {
            return Problems.InvalidSource();
        }

        // Unknown customer and unknown source get the same answer, before the body is read.
        if ((await directory.GetAsync(customer))?.Source(source) is not { } configured)
        {
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
        var verification = Verify(scheme, request.Headers, body, configured.Keys, time.GetUtcNow().ToUnixTimeSeconds());
        if (!verification.Passed)
        {
            GatewayTelemetry.SignatureFailures.Add(1, new KeyValuePair<string, object?>("scheme", scheme.Name), new KeyValuePair<string, object?>("reason", verification.Problem));
            return Problems.Signature(verification.Problem!, verification.Detail!);
        }

        if (rateLimits.Charge(request.HttpContext, customer) is { } limited)
        {
            return limited;
        }

        // Structured and batch CloudEvents are inside the signed body and work on any source; binary mode is the scheme's call.
        switch (CloudEventsIn.Detect(request, binaryAllowed: scheme.AllowsBinaryCloudEvents))
        {
            case CloudEventsIn.Mode.Structured:
                return CloudEventsIn.TryStructured(body, source, out var structured) is { } bad ? bad : await ingestor.IngestAsync(customer, structured!);
            case CloudEventsIn.Mode.Binary:
                return CloudEventsIn.TryBinary(request.Headers, body, request.ContentType, source, out var binary) is { } wrong ? wrong : await ingestor.IngestAsync(customer, binary!);
            case CloudEventsIn.Mode.Batch:
                return CloudEventsIn.TryBatch(body, source, EventIngestor.MaxBatchEvents, out var items) is { } invalid ? invalid : await ingestor.IngestBatchAsync(customer, items);
        }

        if (!JsonBody.TryInspect(body, out BodyFacts facts))
        {
            return Problems.BadRequest("invalid-json", "The body is not a valid JSON document.");
        }

        if (scheme.Challenge(facts) is { } challenge)
        {
            return TypedResults.Ok(new SlackChallenge(challenge));
        }

        var key = scheme.IdempotencyKey(request.Headers, facts);
        if (key is not null && !InputRules.IsValidKey(key))
        {
            return Problems.BadRequest("invalid-idempotency-key", "The idempotency key must be 1-256 printable ASCII characters without spaces.");
        }

        var type = scheme.EventType(request.Headers, facts) ?? options.Value.DefaultEventType;
        if (!InputRules.IsValidType(type))
        {
            return Problems.BadRequest("invalid-type", "The event type must be 1-200 printable ASCII characters without spaces or '*'.");
        }

        var incoming = new IncomingEvent(source, type, request.ContentType ?? "application/json", body, key, TraceParent: null);
        return await ingestor.IngestAsync(customer, incoming);
    }

    /// <summary>The signature check, as a span of its own (its scheme and outcome, never a key or the signature).</summary>
    private static Verification.Verification Verify(SignatureScheme scheme, IHeaderDictionary headers, byte[] body, SourceKeys keys, long now)
    {
        using var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.VerifySpan);
        var verification = scheme.Verify(headers, body, keys, now);
        activity?.SetTag(GatewayTelemetry.SchemeTag, scheme.Name);
        activity?.SetTag(GatewayTelemetry.OutcomeTag, verification.Passed ? "passed" : verification.Problem);
        if (!verification.Passed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, verification.Problem);
        }

        return verification;
    }
}

/// <summary>The answer to Slack's <c>url_verification</c>.</summary>
internal sealed record SlackChallenge(string Challenge);
