using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fabric.Gateway.Events;

/// <summary>Source-generated JSON for the answers to an ingest (webhooks, the publish API).</summary>
// Strict numbers: "since": "42" is invalid, not a seq.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(BatchResponse))]
internal sealed partial class EventsJsonContext : JsonSerializerContext;
