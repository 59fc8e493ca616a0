using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Fabric.Gateway.Http;

/// <summary>
/// A small JSON answer written whole, with its <c>Content-Length</c>. <c>TypedResults.Json</c> streams through the
/// serializer and answers chunked: Kestrel then sends the body and the chunked terminator in two writes, a second send
/// system call on every ingest request.
/// </summary>
internal sealed class JsonAnswer<T>(T value, JsonTypeInfo<T> type, int statusCode) : IResult, IStatusCodeHttpResult, IValueHttpResult<T>, IContentTypeHttpResult
{
    public const string JsonContentType = "application/json; charset=utf-8";

    public int? StatusCode => statusCode;

    public T? Value => value;

    public string ContentType => JsonContentType;

    public Task ExecuteAsync(HttpContext context)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(value, type);
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = JsonContentType;
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length);
    }
}
