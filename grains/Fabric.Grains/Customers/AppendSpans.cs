using System.Diagnostics;
using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>The append spans of events that belong to another trace than the call that carries them.</summary>
internal static class AppendSpans
{
    /// <summary>
    /// A span of its own for an event of another trace than the call's (single events a gateway coalesced into one
    /// call, or a call whose context did not come through): an operator following that event still sees its append,
    /// its transform under it, and its seq. Null when the event has no trace or the current one is its own.
    /// </summary>
    public static Activity? StartOwn(IncomingEvent incoming, Activity? call)
    {
        if (!GrainsTelemetry.Source.HasListeners()
            || incoming.TraceParent is not { } traceParent || !ActivityContext.TryParse(traceParent, null, out var parent)
            || parent.TraceId == call?.TraceId)
        {
            return null;
        }

        return GrainsTelemetry.Source.StartActivity(GrainsTelemetry.AppendSpan, ActivityKind.Internal, parent);
    }

    /// <summary>Ends <paramref name="span"/> with the event's seq once it is kept, or with the error.</summary>
    public static async Task EndWhenKeptAsync(Activity span, Task<AppendResult> kept)
    {
        try
        {
            var result = await kept;
            span.SetTag("fabric.seq", result.Seq);
            span.SetTag("fabric.duplicate", result.Duplicate);
        }
        catch (Exception ex)
        {
            span.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
        }
        finally
        {
            span.Dispose();
        }
    }
}
