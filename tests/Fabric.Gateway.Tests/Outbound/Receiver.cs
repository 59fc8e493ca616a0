using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Fabric.Gateway.Tests.Outbound;

/// <summary>One POST as the receiver saw it.</summary>
internal sealed record Received(string Path, Dictionary<string, string> Headers, string Body, DateTimeOffset At)
{
    /// <summary>What the receiver answered.</summary>
    public int Status { get; set; }

    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException(name);
}

/// <summary>What the receiver answers one POST with.</summary>
internal sealed record Answer(int Status, TimeSpan Delay = default, string? Body = null, string? RetryAfter = null);

/// <summary>
/// A real webhook receiver: Kestrel on 127.0.0.1, one path per endpoint under test, each answering by a script (fault
/// injection: 500s, 410, 429 with Retry-After, slow answers) and recording everything it got.
/// </summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<Received, int, Answer>> _scripts = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Received>> _received = new();

    private Receiver(WebApplication app) => _app = app;

    public Uri BaseAddress => new(_app.Urls.First());

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/{path}", receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    /// <summary>A fresh path answering by <paramref name="script"/> (the received request and its 0-based number on this path).</summary>
    public string Path(Func<Received, int, Answer> script)
    {
        var path = "r" + Guid.NewGuid().ToString("N")[..12];
        _scripts[path] = script;
        _received[path] = new ConcurrentQueue<Received>();
        return path;
    }

    public string Url(string path) => new Uri(BaseAddress, path).ToString();

    public IReadOnlyList<Received> Got(string path) => [.. _received[path]];

    public void Answer(string path, Func<Received, int, Answer> script) => _scripts[path] = script;

    private async Task HandleAsync(string path, HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var received = new Received(path, headers, body, DateTimeOffset.UtcNow);
        if (!_received.TryGetValue(path, out var queue) || !_scripts.TryGetValue(path, out var script))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var number = queue.Count;
        queue.Enqueue(received);
        var answer = script(received, number);
        received.Status = answer.Status;
        if (answer.Delay > TimeSpan.Zero)
        {
            await Task.Delay(answer.Delay, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        context.Response.StatusCode = answer.Status;
        if (answer.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        if (answer.Body is { } text)
        {
            await context.Response.WriteAsync(text);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
