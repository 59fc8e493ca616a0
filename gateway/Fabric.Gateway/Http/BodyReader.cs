using System.Buffers;
using System.IO.Pipelines;

namespace Fabric.Gateway.Http;

/// <summary>Reads a request body up to a limit, so an oversized body is refused before it is buffered whole.</summary>
internal static class BodyReader
{
    /// <summary>Buffer to start with when the client declared no length (chunked); it doubles as the body grows.</summary>
    private const int UnknownLengthStart = 4096;

    /// <summary>
    /// Returns the body bytes, or null when the body exceeds <paramref name="limit"/> bytes. Cancelled (an
    /// <see cref="OperationCanceledException"/>) when <paramref name="cancellationToken"/> fires: the client went away or
    /// the request timed out, and nothing of the body is kept.
    /// </summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        // Each read is copied out and consumed at once. Holding data examined but not consumed (the usual way to buffer
        // a pipe) leaves Kestrel unable to reset the connection's input when the client goes away mid-body, and every
        // such disconnect then logged a warning with a stack trace ("Reading is already in progress").
        var body = new byte[request.ContentLength is { } declared ? (int)declared : (int)Math.Min(UnknownLengthStart, limit)];
        var length = 0;
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
            if (length + buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }

            if (length + buffer.Length > body.Length)
            {
                Array.Resize(ref body, (int)Math.Min(limit, Math.Max(2L * body.Length, length + buffer.Length)));
            }

            buffer.CopyTo(body.AsSpan(length));
            length += (int)buffer.Length;
            reader.AdvanceTo(buffer.End);
            if (read.IsCompleted)
            {
                return length == body.Length ? body : body[..length];
            }
        }
    }
}
