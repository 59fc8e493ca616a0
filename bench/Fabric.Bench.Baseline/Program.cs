using System.Collections.Concurrent;
using System.Net.WebSockets;

// Bare Kestrel, doing the least each scenario needs and nothing more: no validation, no storage, no Orleans. The
// ceiling any path on this machine could reach, measured in the same run as Fabric.
//   POST /ingest     reads the body (same 1 MiB cap as Fabric) and answers 202 with a small JSON body
//   GET  /ws         a WebSocket that is only ever sent to
//   POST /broadcast  sends the body to every socket: the naive loop, one send after another
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();
app.UseWebSockets();
long seq = 0;
var sockets = new ConcurrentDictionary<long, WebSocket>();
var broadcast = new SemaphoreSlim(1);

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

app.Map("/ws", async (HttpContext context) =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        return Results.BadRequest();
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var id = Interlocked.Increment(ref seq);
    sockets[id] = socket;
    var buffer = new byte[4096];
    try
    {
        while (socket.State == WebSocketState.Open)
        {
            var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }
        }
    }
    catch (Exception e) when (e is WebSocketException or OperationCanceledException)
    {
    }
    finally
    {
        sockets.TryRemove(id, out _);
    }

    return Results.Empty;
});

app.MapPost("/broadcast", async (HttpRequest request) =>
{
    using var buffer = new MemoryStream();
    await request.Body.CopyToAsync(buffer);
    var message = buffer.ToArray();

    // One broadcast at a time: a WebSocket allows one send in flight.
    await broadcast.WaitAsync();
    try
    {
        foreach (var socket in sockets.Values)
        {
            try
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException)
            {
            }
        }
    }
    finally
    {
        broadcast.Release();
    }

    return Results.Accepted();
});
app.Run();
