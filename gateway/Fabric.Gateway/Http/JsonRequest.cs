using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Fabric.Gateway.Http;

/// <summary>Reads a small JSON request body into a record, with the same problems every endpoint gives for bad input.</summary>
internal static class JsonRequest
{
    /// <summary>The admin API's bodies are small; anything larger is refused before it is parsed.</summary>
    public const long MaxBytes = 64 * 1024;

    /// <summary>The parsed body (default when the body is empty and <paramref name="optional"/>), or the problem to answer.</summary>
    public static Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, bool optional, CancellationToken cancellationToken) =>
        ReadAsync(request, type, optional, MaxBytes, cancellationToken);

    /// <summary>As above, for a body that may be larger than an admin call's usual <see cref="MaxBytes"/> (a module in base64).</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, bool optional, long maxBytes, CancellationToken cancellationToken)
    {
        var body = await BodyReader.ReadAsync(request, maxBytes, cancellationToken);
        if (body is null)
        {
            return (default, Problems.TooLarge(maxBytes));
        }

        if (body.Length == 0 && optional)
        {
            return (default, null);
        }

        if (!JsonBody.IsJsonMediaType(request.ContentType))
        {
            return (default, Problems.UnsupportedMediaType("The body must be application/json."));
        }

        // The serializer skips unknown properties without checking their UTF-8; the rule is the same as for events.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return (default, Problems.BadRequest("invalid-json", "The body is not valid UTF-8 JSON."));
        }

        try
        {
            var value = JsonSerializer.Deserialize(body, type);
            return value is null ? (default, Problems.BadRequest("invalid-body", "The body must be a JSON object.")) : (value, null);
        }
        catch (JsonException)
        {
            return (default, Problems.BadRequest("invalid-json", "The body is not valid JSON of the expected shape."));
        }
    }
}
