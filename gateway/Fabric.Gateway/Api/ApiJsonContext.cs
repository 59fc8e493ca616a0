using System.Text.Json;
using System.Text.Json.Serialization;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Fabric.Gateway.Outbound;
using Fabric.Gateway.Admin;
using Fabric.Gateway.Webhooks;

namespace Fabric.Gateway.Api;

/// <summary>Source-generated JSON for every fixed-shape message the gateway reads or writes.</summary>
// Strict numbers: "since": "42" is an invalid frame, not a seq.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(BatchResponse))]
[JsonSerializable(typeof(CustomerPutRequest))]
[JsonSerializable(typeof(CustomerView))]
[JsonSerializable(typeof(CustomerList))]
[JsonSerializable(typeof(SourcePutRequest))]
[JsonSerializable(typeof(SourceView))]
[JsonSerializable(typeof(KeyCreateRequest))]
[JsonSerializable(typeof(KeyCreated))]
[JsonSerializable(typeof(SigningKeyCreated))]
[JsonSerializable(typeof(SessionList))]
[JsonSerializable(typeof(SlackChallenge))]
[JsonSerializable(typeof(EndpointRequest))]
[JsonSerializable(typeof(EndpointResponse))]
[JsonSerializable(typeof(EndpointList))]
[JsonSerializable(typeof(RotateRequest))]
[JsonSerializable(typeof(MessageList))]
[JsonSerializable(typeof(RecoverRequest))]
[JsonSerializable(typeof(RecoveryResponse))]
[JsonSerializable(typeof(RetryResponse))]
[JsonSerializable(typeof(Transforms.TransformRequest))]
[JsonSerializable(typeof(Transforms.TransformResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
