using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fabric.Gateway.Admin;

/// <summary>Source-generated JSON for the admin API of customers, sources, keys and sessions.</summary>
// Strict numbers: "since": "42" is invalid, not a seq.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(CustomerPutRequest))]
[JsonSerializable(typeof(CustomerView))]
[JsonSerializable(typeof(CustomerList))]
[JsonSerializable(typeof(SourcePutRequest))]
[JsonSerializable(typeof(SourceView))]
[JsonSerializable(typeof(KeyCreateRequest))]
[JsonSerializable(typeof(KeyCreated))]
[JsonSerializable(typeof(SigningKeyCreated))]
[JsonSerializable(typeof(SessionList))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
