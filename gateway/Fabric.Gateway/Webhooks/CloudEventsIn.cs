using System.Net.Mime;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Fabric.Contracts;
using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Fabric.Gateway.Webhooks;

/// <summary>
/// CloudEvents 1.0 over HTTP on any source, read with the CloudEvents SDK: structured
/// (<c>application/cloudevents+json</c>), batch (<c>application/cloudevents-batch+json</c>) and, on unsigned sources,
/// binary (<c>ce-*</c> headers, the body is the data). The data must be JSON, as for every Fabric event. The idempotency key is the
/// CloudEvent's <c>source</c> + <c>id</c>, which the spec makes unique per distinct event.
/// </summary>
internal static class CloudEventsIn
{
    public const string StructuredMediaType = "application/cloudevents+json";
    public const string BatchMediaType = "application/cloudevents-batch+json";

    private static readonly JsonEventFormatter Formatter = new();

    public enum Mode
    {
        None,
        Structured,
        Batch,
        Binary,
    }

    /// <summary>Which mode the request is in; <c>ce-*</c> headers are ignored unless <paramref name="binaryAllowed"/>.</summary>
    public static Mode Detect(HttpRequest request, bool binaryAllowed)
    {
        var media = MediaType(request.ContentType);
        return media switch
        {
            StructuredMediaType => Mode.Structured,
            BatchMediaType => Mode.Batch,
            _ when binaryAllowed && request.Headers.ContainsKey("ce-specversion") => Mode.Binary,
            _ => Mode.None,
        };
    }

    /// <summary>One structured-mode CloudEvent (the whole body).</summary>
    public static ProblemHttpResult? TryStructured(byte[] body, string source, out IncomingEvent? incoming)
    {
        incoming = null;
        // The SDK's parser skips a string without decoding it, so invalid UTF-8 would pass it and throw later.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return Problems.BadRequest("invalid-json", "The body is not valid UTF-8 JSON.");
        }

        CloudEvent cloudEvent;
        try
        {
            cloudEvent = Formatter.DecodeStructuredModeMessage(body, new ContentType(StructuredMediaType), extensionAttributes: null);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or FormatException or InvalidOperationException)
        {
            return Invalid(ex);
        }

        return TryConvert(cloudEvent, source, out incoming);
    }

    /// <summary>A batch: one item per element, each decoded on its own so one bad event does not sink the rest.</summary>
    public static ProblemHttpResult? TryBatch(byte[] body, string source, int maxEvents, out List<BatchItem> items)
    {
        items = [];
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return Problems.BadRequest("invalid-json", "The body is not valid UTF-8 JSON.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException)
        {
            return Problems.BadRequest("invalid-json", "The body is not a valid JSON document.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() is 0 || root.GetArrayLength() > maxEvents)
            {
                return Problems.BadRequest("invalid-batch-size", $"A CloudEvents batch is a JSON array of 1 to {maxEvents} events.");
            }

            foreach (var element in root.EnumerateArray())
            {
                var problem = TryStructured(Encoding.UTF8.GetBytes(element.GetRawText()), source, out var incoming);
                items.Add(new BatchItem(incoming, problem));
            }
        }

        return null;
    }

    /// <summary>Binary mode: the context in <c>ce-*</c> headers, the body is the data.</summary>
    public static ProblemHttpResult? TryBinary(IHeaderDictionary headers, byte[] body, string? contentType, string source, out IncomingEvent? incoming)
    {
        incoming = null;
        if (headers["ce-specversion"].ToString() != "1.0")
        {
            return Problems.BadRequest("invalid-cloudevent", "ce-specversion must be 1.0.");
        }

        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0);
        try
        {
            foreach (var (name, value) in headers)
            {
                if (name.StartsWith("ce-", StringComparison.OrdinalIgnoreCase) && !name.Equals("ce-specversion", StringComparison.OrdinalIgnoreCase))
                {
                    // The HTTP binding percent-encodes header values outside printable ASCII.
                    cloudEvent.SetAttributeFromString(name[3..].ToLowerInvariant(), Uri.UnescapeDataString(value.ToString()));
                }
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or UriFormatException)
        {
            return Invalid(ex);
        }

        if (!cloudEvent.IsValid)
        {
            return Problems.BadRequest("invalid-cloudevent", "A binary-mode CloudEvent needs ce-id, ce-source, ce-type and ce-specversion headers.");
        }

        if (body.Length > 0 && !JsonBody.TryInspect(body, out BodyFacts _))
        {
            return Problems.BadRequest("invalid-json", "The CloudEvent's data is not valid UTF-8 JSON.");
        }

        cloudEvent.DataContentType = contentType;
        return Convert(cloudEvent, body.Length == 0 ? "null"u8.ToArray() : body, source, out incoming);
    }

    private static ProblemHttpResult? TryConvert(CloudEvent cloudEvent, string source, out IncomingEvent? incoming)
    {
        incoming = null;
        byte[] data;
        switch (cloudEvent.Data)
        {
            case null:
                data = "null"u8.ToArray();
                break;
            case JsonElement element:
                data = Encoding.UTF8.GetBytes(element.GetRawText());
                break;
            default:
                return Problems.UnsupportedMediaType("A CloudEvent's data must be JSON (datacontenttype application/json or absent); data_base64 and text are not accepted.");
        }

        return Convert(cloudEvent, data, source, out incoming);
    }

    private static ProblemHttpResult? Convert(CloudEvent cloudEvent, byte[] data, string source, out IncomingEvent? incoming)
    {
        incoming = null;
        var type = cloudEvent.Type!;
        if (!InputRules.IsValidType(type))
        {
            return Problems.BadRequest("invalid-type", "The CloudEvent's type must be 1-200 printable ASCII characters without spaces or '*'.");
        }

        var attributes = new CloudEventAttributes(
            cloudEvent.Id!, cloudEvent.Source!.OriginalString, "1.0", cloudEvent.Subject, cloudEvent.Time, cloudEvent.DataSchema?.OriginalString);
        incoming = new IncomingEvent(source, type, "application/json", data, IdempotencyKey(attributes.Source, attributes.Id), TraceParent: null, attributes);
        return null;
    }

    /// <summary><c>{source}#{id}</c> when that is a valid key; otherwise (too long, non-ASCII) a hash of both, stable across retries.</summary>
    private static string IdempotencyKey(string source, string id)
    {
        var key = source + "#" + id;
        return InputRules.IsValidKey(key) ? key : "ce:" + System.Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source + "\n" + id)));
    }

    private static ProblemHttpResult Invalid(Exception ex) =>
        Problems.BadRequest("invalid-cloudevent", "Not a valid CloudEvents 1.0 event: " + ex.GetType().Name switch
        {
            nameof(JsonException) => "the JSON is malformed.",
            _ => "a required attribute (id, source, type, specversion) is missing or an attribute has the wrong type.",
        });

    private static string MediaType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return "";
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
    }
}
