using System.Text.Json;

namespace Fabric.Gateway.Http;

/// <summary>Checks that a body is one complete JSON value and finds the fields providers name things by, in one pass.</summary>
internal static class JsonBody
{
    /// <summary>True when <paramref name="body"/> is valid UTF-8 JSON; <paramref name="facts"/> holds the fields providers use.</summary>
    public static bool TryInspect(ReadOnlySpan<byte> body, out BodyFacts facts)
    {
        facts = default;
        // The reader does not check UTF-8 inside strings, and payloads are later written raw into text frames,
        // where invalid UTF-8 would fail the client's connection on every resume.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return false;
        }

        string? type = null, id = null, action = null, eventId = null, innerType = null, challenge = null;
        var inEvent = false;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 1)
                {
                    inEvent = false;
                }

                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.CurrentDepth == 1)
                {
                    // Only the first occurrence of a name counts, as in the providers' own parsers' common behaviour.
                    if (reader.ValueTextEquals("type"u8)) { type ??= ReadString(ref reader); }
                    else if (reader.ValueTextEquals("id"u8)) { id ??= ReadString(ref reader); }
                    else if (reader.ValueTextEquals("action"u8)) { action ??= ReadString(ref reader); }
                    else if (reader.ValueTextEquals("event_id"u8)) { eventId ??= ReadString(ref reader); }
                    else if (reader.ValueTextEquals("challenge"u8)) { challenge ??= ReadString(ref reader); }
                    else if (reader.ValueTextEquals("event"u8))
                    {
                        reader.Read();
                        inEvent = reader.TokenType == JsonTokenType.StartObject;
                        if (!inEvent)
                        {
                            reader.Skip();
                        }
                    }
                }
                else if (inEvent && reader.CurrentDepth == 2 && reader.ValueTextEquals("type"u8))
                {
                    innerType ??= ReadString(ref reader);
                }
            }

            if (reader.BytesConsumed == 0 || !reader.IsFinalBlock)
            {
                return false;
            }

            facts = new BodyFacts(type, id, action, eventId, innerType, challenge);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: GetString on a string that is not valid UTF-8.
            return false;
        }
    }

    /// <summary>Moves to the property's value: its text when a string, else skips it and returns null.</summary>
    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
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
