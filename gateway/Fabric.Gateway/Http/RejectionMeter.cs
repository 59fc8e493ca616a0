using Fabric.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;

namespace Fabric.Gateway.Http;

/// <summary>
/// Counts every refused ingest request (<c>fabric.gateway.rejected</c>) by surface and reason, wherever the refusal
/// came from: a handler's problem, authentication, the rate limiter, Kestrel's body limits or a timeout. The reason is
/// the problem's type (the last segment of its URI), which every 4xx here carries; else the status code.
/// </summary>
internal static class RejectionMeter
{
    private const string ReasonKey = "fabric.problem";

    /// <summary>Notes a problem's type as it is written (ProblemDetails service customization): the meter reads it after the response.</summary>
    public static void Note(ProblemDetailsContext context)
    {
        if (context.ProblemDetails.Type is { } type)
        {
            context.HttpContext.Items[ReasonKey] = Reason(type);
        }
    }

    /// <summary>The reason label of a problem type: the last segment of its URI (<c>…/problems/invalid-json</c> → <c>invalid-json</c>).</summary>
    public static string Reason(string problemType) => problemType[(problemType.LastIndexOf('/') + 1)..];

    /// <summary>One refused event: every surface counts through here, so the labels stay the same everywhere.</summary>
    public static void Count(string surface, string reason) =>
        GatewayTelemetry.Rejected.Add(1, new KeyValuePair<string, object?>("surface", surface), new KeyValuePair<string, object?>("reason", reason));

    public static async Task MeasureAsync(HttpContext context, RequestDelegate next)
    {
        await next(context);
        if (context.Response.StatusCode >= 400 && Surface(context.Request) is { } surface)
        {
            Count(surface, context.Items.TryGetValue(ReasonKey, out var noted) && noted is string code ? code : context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Which ingest surface a request is: webhooks, or the publish API (its POSTs under <c>/events</c>).</summary>
    private static string? Surface(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return null;
        }

        var path = request.Path;
        if (path.StartsWithSegments("/v1/webhooks"))
        {
            return "webhook";
        }

        return path.StartsWithSegments("/v1/customers") && path.Value is { } value
            && (value.EndsWith("/events", StringComparison.Ordinal) || value.EndsWith("/events/", StringComparison.Ordinal) || value.EndsWith("/events/batch", StringComparison.Ordinal))
            ? "api"
            : null;
    }
}
