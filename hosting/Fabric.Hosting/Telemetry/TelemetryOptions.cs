namespace Fabric.Hosting.Telemetry;

/// <summary>Fabric's own telemetry settings, beside the standard <c>OTEL_*</c> ones. Bound from <c>Fabric:Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Fabric:Telemetry";

    /// <summary>
    /// Record spans even when no trace exporter is configured, for in-process listeners (the tests' in-memory
    /// exporter). Default false: without an exporter nothing is traced.
    /// </summary>
    public bool AlwaysTrace { get; set; }

    /// <summary>
    /// Customers whose sockets get a span per socket write (<c>fabric.socket.write</c>) under each delivery batch, to
    /// follow one customer's events socket by socket. Default none: a delivery batch is one span with its socket
    /// count, whatever the fan-out. Keep this list short; it is a debugging aid, not a steady setting.
    /// </summary>
    public List<string> DebugCustomers { get; set; } = [];
}
