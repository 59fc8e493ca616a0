using System.Text.Json;
using System.Text.Json.Serialization;
using Fabric.Gateway.Ingest;
using Fabric.Gateway.Sockets;

namespace Fabric.Gateway.Api;

/// <summary>Source-generated JSON for every fixed-shape message the gateway reads or writes.</summary>
// Strict numbers: "since": "42" is an invalid frame, not a seq.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(ClientFrame))]
[JsonSerializable(typeof(WelcomeFrame))]
[JsonSerializable(typeof(SubscribedFrame))]
[JsonSerializable(typeof(UnsubscribedFrame))]
[JsonSerializable(typeof(ErrorFrame))]
[JsonSerializable(typeof(PongFrame))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
