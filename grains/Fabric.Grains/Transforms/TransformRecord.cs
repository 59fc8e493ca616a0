namespace Fabric.Grains.Transforms;

/// <summary>
/// An attached module as kept in grain storage (Redis in distributed mode): the bytes themselves, so it survives
/// restarts and silo loss and a new activation compiles (or takes from the cache) exactly what was attached.
/// </summary>
[GenerateSerializer, Alias("fabric.transform-record")]
public sealed class TransformRecord
{
    [Id(0)]
    public byte[] Module { get; set; } = [];

    [Id(1)]
    public string Hash { get; set; } = "";

    [Id(2)]
    public string Config { get; set; } = "{}";

    [Id(3)]
    public string OnError { get; set; } = "keep";

    [Id(4)]
    public bool KeepOriginal { get; set; }

    [Id(5)]
    public DateTimeOffset Attached { get; set; }
}

/// <summary>The customer grain's ingest modules, by source name. Written only when one is attached or detached.</summary>
[GenerateSerializer, Alias("fabric.source-transforms")]
public sealed class SourceTransforms
{
    [Id(0)]
    public Dictionary<string, TransformRecord> Sources { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>An endpoint grain's outbound module, kept apart from its delivery state so that state's frequent writes do not carry the module.</summary>
[GenerateSerializer, Alias("fabric.endpoint-transform")]
public sealed class EndpointTransform
{
    [Id(0)]
    public TransformRecord? Record { get; set; }
}
