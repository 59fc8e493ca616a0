using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Fabric.Gateway.Hosting;

/// <summary>
/// A connection middleware that reads what a client is still sending before the socket is closed, as nginx's lingering
/// close does. When the server answers a request it will not read (headers over the limit: 431) and closes, data left
/// unread in the socket makes the kernel send a reset, and a reset that reaches the client before it has read the
/// answer replaces the answer: the client sees "connection reset" instead of the 431. So once the HTTP layer is done,
/// the socket's close waits: what the client still sends is read and dropped until it closes its side, sends nothing
/// for a second, or Fabric:Http:CloseLinger passes. A close the client started, an abort and a WebSocket are not held.
/// Only reads pass through this middleware's wrapper; writes (every socket frame) go straight to the transport. On a TLS
/// endpoint it does nothing: the TLS layer's end closes the socket before the drain (no endpoint here uses TLS; a
/// proxy in front terminates it).
/// </summary>
internal static class LingeringClose
{
    // Past this much, the client is sending a body in earnest; the answer has had time to reach it.
    private const int MaxDrainBytes = 1024 * 1024;

    // A client that sends nothing for this long has sent what it had in flight.
    private const int QuietMilliseconds = 1000;

    private const string UpgradeRequested = "fabric.upgrade-requested";

    /// <summary>
    /// An HTTP middleware that tells the connection's lingering close about a request asking for an upgrade (a
    /// WebSocket): whether or not it is granted, the client sends nothing it would need to drain.
    /// </summary>
    public static Task NoteUpgradesAsync(HttpContext http, RequestDelegate next)
    {
        if (http.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
            && http.Features.Get<IConnectionItemsFeature>() is { } connection)
        {
            connection.Items[UpgradeRequested] = true;
        }

        return next(http);
    }

    public static ListenOptions UseLingeringClose(this ListenOptions listen, TimeSpan linger)
    {
        if (linger > TimeSpan.Zero)
        {
            listen.Use(next => context => RunAsync(next, context, linger));
        }

        return listen;
    }

    private static async Task RunAsync(ConnectionDelegate next, ConnectionContext context, TimeSpan linger)
    {
        var transport = context.Transport;
        var input = new HeldReader(transport.Input);
        context.Transport = new Duplex(input, transport.Output);
        try
        {
            await next(context);
        }
        finally
        {
            context.Transport = transport;
        }

        // The HTTP layer is done with the connection; the transport closes the socket when this returns. A client that
        // closed first, or an aborted connection, ends the first read at once. A WebSocket client has finished its close
        // handshake and waits for the server to close first: nothing to drain, and lingering would only delay it.
        try
        {
            if (!context.Items.ContainsKey(UpgradeRequested))
            {
                await DrainAsync(transport.Input, linger);
            }
        }
        finally
        {
            await transport.Input.CompleteAsync(input.Error);
        }
    }

    private static async Task DrainAsync(PipeReader input, TimeSpan linger)
    {
        try
        {
            var deadline = Environment.TickCount64 + (long)linger.TotalMilliseconds;
            using var wait = new CancellationTokenSource();
            long drained = 0;
            while (drained <= MaxDrainBytes && Environment.TickCount64 < deadline)
            {
                wait.CancelAfter(Math.Min(QuietMilliseconds, (int)linger.TotalMilliseconds));
                var result = await input.ReadAsync(wait.Token);
                drained += result.Buffer.Length;
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went quiet: whatever it sent has been read, so the close is a clean one.
        }
        catch (Exception)
        {
            // Best effort on a connection the HTTP layer is done with: whatever ends the read (a reset, an abort, a
            // socket error the HTTP layer has already seen and logged) ends the lingering, and nothing more.
        }
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>
    /// The transport's input as the HTTP layer sees it: its completing the input is noted, not passed on. Reads go
    /// straight through (no state machine of its own: an idle socket's pending read costs nothing more).
    /// </summary>
    private sealed class HeldReader(PipeReader inner) : PipeReader
    {
        public Exception? Error { get; private set; }

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => Error ??= exception;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => inner.ReadAsync(cancellationToken);

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

        protected override ValueTask<ReadResult> ReadAtLeastAsyncCore(int minimumSize, CancellationToken cancellationToken) =>
            inner.ReadAtLeastAsync(minimumSize, cancellationToken);
    }
}
