using System.Buffers;
using System.IO.Pipelines;

namespace Fabric.Gateway.Http;

/// <summary>Reads a request body up to a limit, so an oversized body is refused before it is buffered whole.</summary>
internal static class BodyReader
{
    /// <summary>Returns the body bytes, or null when the body exceeds <paramref name="limit"/> bytes.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        var reader = request.BodyReader;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await reader.ReadAsync(cancellationToken);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return null;
            }

            var buffer = read.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (read.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }

            // Keep everything buffered until the end: examined = End asks the pipe for more.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
