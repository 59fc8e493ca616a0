using System.Runtime.InteropServices;
using System.Text.Json;
using Fabric.Contracts;
using Fabric.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Fabric.Gateway.Events;

/// <summary>
/// One event of the publish API, <c>{"type": "...", "data": ..., "id": "optional key"}</c>, as a single publish or as
/// one element of a batch; the same rules and problems for both.
/// </summary>
internal static class PublishedEvent
{
    /// <summary>The source recorded for events published through the API.</summary>
    public const string Source = BuiltInSources.Api;

    /// <summary>A publish body: JSON media type, within the size limit, valid UTF-8 JSON; else the problem to answer.</summary>
    public static async Task<(JsonDocument? Document, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (!JsonBody.IsJsonMediaType(request.ContentType))
        {
            return (null, Problems.UnsupportedMediaType("Publish bodies must be application/json."));
        }

        var body = await BodyReader.ReadAsync(request, limit, cancellationToken);
        if (body is null)
        {
            return (null, Problems.TooLarge(limit));
        }

        return (TryParse(body, out var document) is { } invalid) ? (null, invalid) : (document, null);
    }

    /// <summary>Reads the whole body as UTF-8 JSON; the problem to answer when it is not.</summary>
    public static ProblemHttpResult? TryParse(byte[] body, out JsonDocument? document)
    {
        document = null;
        // Invalid UTF-8 inside strings would pass the parser and break every socket frame the event is written to.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return Problems.BadRequest("invalid-json", "The body is not valid UTF-8 JSON.");
        }

        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
            return null;
        }
        catch (JsonException)
        {
            return Problems.BadRequest("invalid-json", "The body is not a valid JSON document.");
        }
    }

    /// <summary>The event, or the problem that names the rule it breaks.</summary>
    public static ProblemHttpResult? TryRead(JsonElement element, out IncomingEvent? incoming)
    {
        incoming = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            return Problems.BadRequest("invalid-body", "An event must be an object: {\"type\": \"...\", \"data\": ..., \"id\": \"optional key\"}.");
        }

        if (!element.TryGetProperty("type"u8, out var typeElement) || typeElement.ValueKind != JsonValueKind.String
            || typeElement.GetString() is not { } type || !InputRules.IsValidType(type))
        {
            return Problems.BadRequest("invalid-type", "\"type\" is required: 1-200 printable ASCII characters without spaces or '*'.");
        }

        if (!element.TryGetProperty("data"u8, out var data))
        {
            return Problems.BadRequest("missing-data", "\"data\" is required (any JSON value).");
        }

        string? key = null;
        if (element.TryGetProperty("id"u8, out var id) && id.ValueKind != JsonValueKind.Null)
        {
            key = id.ValueKind == JsonValueKind.String ? id.GetString() : null;
            if (!InputRules.IsValidKey(key))
            {
                return Problems.BadRequest("invalid-idempotency-key", "\"id\" must be 1-256 printable ASCII characters without spaces.");
            }
        }

        incoming = new IncomingEvent(Source, type, "application/json", JsonMarshal.GetRawUtf8Value(data).ToArray(), key, TraceParent: null);
        return null;
    }
}
