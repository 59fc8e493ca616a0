using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

// SignalR peer: sockets connect to /hub (JSON hub protocol over WebSockets); POST /broadcast parses the body and sends
// it to every connection with Clients.All, which serializes once per protocol and writes to each connection. A client's
// invocation of Send (the chat scenario) does the same with the message it sent.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSignalR();
var app = builder.Build();
app.MapHub<BroadcastHub>("/hub");
app.MapPost("/broadcast", async (HttpRequest request, IHubContext<BroadcastHub> hub) =>
{
    using var body = await JsonDocument.ParseAsync(request.Body);
    await hub.Clients.All.SendAsync("e", body.RootElement.Clone());
    return Results.Accepted();
});
app.Run();

internal sealed class BroadcastHub : Hub
{
    public Task Send(JsonElement message) => Clients.All.SendAsync("e", message);
}
