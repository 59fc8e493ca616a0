namespace Fabric.Gateway.Ingest;

/// <summary>
/// Which failures of a grain call mean "the cluster could not do it right now" (answered 503, retried, or waited out)
/// rather than a bug: timeouts, Orleans' own errors, a silo gone, and a customer log that could not be written
/// (Redis down), which the grain reports as <see cref="InvalidOperationException"/>. Caller cancellation is not one.
/// </summary>
internal static class ClusterFailure
{
    public static bool Is(Exception ex) => ex is not (OperationCanceledException or ArgumentException);
}
