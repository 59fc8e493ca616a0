using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fabric.Gateway.Outbound;

/// <summary>Source-generated JSON for the admin API of outbound endpoints.</summary>
// Strict numbers: "since": "42" is invalid, not a seq.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(EndpointRequest))]
[JsonSerializable(typeof(EndpointResponse))]
[JsonSerializable(typeof(EndpointList))]
[JsonSerializable(typeof(RotateRequest))]
[JsonSerializable(typeof(MessageList))]
[JsonSerializable(typeof(RecoverRequest))]
[JsonSerializable(typeof(RecoveryResponse))]
[JsonSerializable(typeof(RetryResponse))]
internal sealed partial class OutboundJsonContext : JsonSerializerContext;
