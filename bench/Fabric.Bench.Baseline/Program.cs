// Bare Kestrel: read the body (same 1 MiB cap as Fabric) and answer 202 with a small JSON body. No validation, no
// storage, no Orleans: the ceiling any ingest path on this machine could reach.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();
long seq = 0;
app.MapPost("/ingest", async (HttpRequest request) =>
{
    using var buffer = new MemoryStream();
    await request.Body.CopyToAsync(buffer);
    if (buffer.Length > 1024 * 1024)
    {
        return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
    }

    var n = Interlocked.Increment(ref seq);
    return Results.Text($"{{\"id\":\"evt_{n}\",\"seq\":{n},\"duplicate\":false}}", "application/json", statusCode: StatusCodes.Status202Accepted);
});
app.Run();
