namespace Fabric.Bench.Load;

/// <summary>Latency percentiles from samples, plus a down-sampled CDF for plots.</summary>
internal sealed record Stats(long Count, double P50, double P90, double P99, double Max)
{
    public static Stats From(float[] sorted) => sorted.Length == 0
        ? new Stats(0, 0, 0, 0, 0)
        : new Stats(sorted.Length, At(sorted, 0.50), At(sorted, 0.90), At(sorted, 0.99), sorted[^1]);

    public static double At(float[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    /// <summary>200 points of the CDF, enough for a plot and small enough to keep in a results line.</summary>
    public static double[] Cdf(float[] sorted) =>
        sorted.Length == 0 ? [] : Enumerable.Range(0, 200).Select(i => (double)At(sorted, i / 200.0)).Append(sorted[^1]).ToArray();
}
