using System.Text.Json;

namespace Fabric.Gateway.Ingest;

/// <summary>Checks that a body is one complete JSON value and finds its top-level <c>type</c> string, in one pass.</summary>
internal static class JsonBody
{
    private static ReadOnlySpan<byte> TypeProperty => "type"u8;

    /// <summary>True when <paramref name="body"/> is valid JSON; <paramref name="type"/> is the root object's <c>type</c> string, if any.</summary>
    public static bool TryInspect(ReadOnlySpan<byte> body, out string? type)
    {
        type = null;
        // The reader does not check UTF-8 inside strings, and payloads are later written raw into text frames,
        // where invalid UTF-8 would fail the client's connection on every resume.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return false;
        }

        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && type is null
                    && reader.ValueTextEquals(TypeProperty))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        type = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }

            return reader.BytesConsumed > 0 && reader.IsFinalBlock;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: GetString on a string that is not valid UTF-8.
            type = null;
            return false;
        }
    }

    /// <summary>True for <c>application/json</c> and any <c>+json</c> media type, with or without parameters.</summary>
    public static bool IsJsonMediaType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var media = contentType.AsSpan();
        var semicolon = media.IndexOf(';');
        if (semicolon >= 0)
        {
            media = media[..semicolon];
        }

        media = media.Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }
}
