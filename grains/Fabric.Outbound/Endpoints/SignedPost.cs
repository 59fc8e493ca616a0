using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Outbound.Delivery;
using Microsoft.AspNetCore.DataProtection;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// One endpoint's POST: Standard Webhooks headers with one signature per active secret, the endpoint's own headers, and
/// the trace. Keeps the unprotected secrets and the parsed URL for as long as the configuration they came from.
/// </summary>
internal sealed class SignedPost(WebhookSender sender, IDataProtector protector, TimeProvider time)
{
    private IReadOnlyList<string>? _secrets;
    private DateTimeOffset _secretsUntil;
    private List<EndpointSecret>? _secretsOf;
    private Uri? _url;
    private string? _urlOf;

    public async Task<AttemptResult> SendAsync(EndpointRecord config, EventEnvelope envelope, Activity? activity, CancellationToken cancellationToken)
    {
        var body = WebhookBody.Of(envelope);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var headers = new Dictionary<string, string>(config.Headers, StringComparer.OrdinalIgnoreCase)
        {
            ["webhook-id"] = envelope.Id,
            ["webhook-timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["webhook-signature"] = StandardWebhooks.Sign(Secrets(config), envelope.Id, timestamp, body),
            ["user-agent"] = "Fabric-Webhooks/1",
        };
        // Traced, HttpClient sends the traceparent of its own span under the attempt's; untraced, the receiver still
        // gets the event's ingest trace.
        if (activity is null && envelope.TraceParent is { } traceparent)
        {
            headers["traceparent"] = traceparent;
        }

        var result = await sender.SendAsync(Url(config), headers, body, config.Timeout, cancellationToken);
        activity?.SetTag("http.response.status_code", result.Attempt.ResponseStatus);
        if (!result.Succeeded)
        {
            activity?.SetStatus(ActivityStatusCode.Error, result.Attempt.Error);
        }

        return result;
    }

    /// <summary>The answer as the attempts metric and span name it.</summary>
    public static string Outcome(AttemptResult result) => result.Attempt.ResponseStatus switch
    {
        >= 200 and < 300 => "success",
        410 => "gone",
        429 or 503 => "throttled",
        { } => "failure",
        null => result.Attempt.Error ?? "error",
    };

    /// <summary>
    /// One attempt's span. The first automatic attempt is a child of the event's ingest span: one trace shows the POST
    /// in and the POST out. A retry (perhaps hours later) or an operator's resend starts a trace of its own, linked to
    /// the ingest trace, as OpenTelemetry advises for work done later on behalf of a finished trace.
    /// </summary>
    public static Activity? StartActivity(string customer, EndpointRecord config, EventEnvelope envelope, int attempt, bool manual)
    {
        if (!OutboundTelemetry.Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(envelope.TraceParent, null, out var ingest);
        var first = attempt == 1 && !manual;
        var activity = first
            ? OutboundTelemetry.Source.StartActivity(OutboundTelemetry.AttemptSpan, ActivityKind.Client, ingest)
            : TraceLinks.StartRoot(OutboundTelemetry.Source, OutboundTelemetry.AttemptSpan, ActivityKind.Client, TraceLinks.To(envelope.TraceParent));
        activity?.SetTag(OutboundTelemetry.CustomerTag, customer);
        activity?.SetTag(OutboundTelemetry.EndpointTag, config.Id);
        activity?.SetTag(OutboundTelemetry.SeqTag, envelope.Seq);
        activity?.SetTag(OutboundTelemetry.AttemptTag, attempt);
        if (!first)
        {
            activity?.SetTag(OutboundTelemetry.ReasonTag, manual ? "resend" : "retry");
        }

        return activity;
    }

    /// <summary>The endpoint's URL, parsed once per configuration rather than once per attempt.</summary>
    private Uri Url(EndpointRecord config)
    {
        if (_url is null || !ReferenceEquals(_urlOf, config.Url))
        {
            _urlOf = config.Url;
            _url = new Uri(config.Url);
        }

        return _url;
    }

    /// <summary>The secrets that sign now: the newest, and the ones it replaced until their overlap ends.</summary>
    private IReadOnlyList<string> Secrets(EndpointRecord config)
    {
        var now = time.GetUtcNow();
        if (_secrets is null || now >= _secretsUntil || !ReferenceEquals(_secretsOf, config.Secrets))
        {
            _secretsOf = config.Secrets;
            var active = config.Secrets.Where(s => s.Until is null || s.Until > now).ToList();
            _secrets = [.. active.Select(s => protector.Unprotect(s.Protected))];
            _secretsUntil = active.Select(s => s.Until ?? DateTimeOffset.MaxValue).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
        }

        return _secrets;
    }
}
