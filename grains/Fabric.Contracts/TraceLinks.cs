using System.Diagnostics;

namespace Fabric.Contracts;

/// <summary>
/// Spans for work done later on behalf of an event (a resume from history, a gap fill, an outbound retry): a trace of
/// their own, linked to the event's ingest trace (<see cref="EventEnvelope.TraceParent"/>), as OpenTelemetry advises.
/// </summary>
public static class TraceLinks
{
    /// <summary>
    /// Starts a root span with <paramref name="links"/>. A default parent context alone would not do: ActivitySource
    /// takes <see cref="Activity.Current"/> as the parent then, and long-lived loops (a socket's request, a grain's
    /// delivery pump) carry one for hours. The new span is current afterwards; when it stops, nothing is.
    /// </summary>
    public static Activity? StartRoot(ActivitySource source, string name, ActivityKind kind, IEnumerable<ActivityLink>? links)
    {
        ArgumentNullException.ThrowIfNull(source);
        Activity.Current = null;
        return source.StartActivity(name, kind, parentContext: default, links: links);
    }

    /// <summary>Links per span at most: a page or a batch links to its events' ingest traces, the first this many of them.</summary>
    public const int MaxLinks = 32;

    /// <summary>Links to the ingest spans of the first <see cref="MaxLinks"/> of <paramref name="events"/> that carry one.</summary>
    public static List<ActivityLink> ToEach(IEnumerable<EventEnvelope> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var links = new List<ActivityLink>();
        foreach (var e in events)
        {
            if (links.Count == MaxLinks)
            {
                break;
            }

            if (ActivityContext.TryParse(e.TraceParent, null, out var ingest))
            {
                links.Add(new ActivityLink(ingest));
            }
        }

        return links;
    }

    /// <summary>The link to an event's ingest span, or none when the event carries no trace context.</summary>
    public static ActivityLink[]? To(string? traceParent) =>
        ActivityContext.TryParse(traceParent, null, out var ingest) ? [new ActivityLink(ingest)] : null;
}
