using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fabric.Gateway.Webhooks;

/// <summary>Source-generated JSON for the webhook surface's own answers.</summary>
// Strict numbers: "since": "42" is invalid, not a seq.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(SlackChallenge))]
internal sealed partial class WebhooksJsonContext : JsonSerializerContext;
