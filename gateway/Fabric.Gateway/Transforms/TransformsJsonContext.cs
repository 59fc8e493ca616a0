using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fabric.Gateway.Transforms;

/// <summary>Source-generated JSON for the admin API of transforms.</summary>
// Strict numbers: "since": "42" is invalid, not a seq.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(TransformRequest))]
[JsonSerializable(typeof(TransformResponse))]
internal sealed partial class TransformsJsonContext : JsonSerializerContext;
