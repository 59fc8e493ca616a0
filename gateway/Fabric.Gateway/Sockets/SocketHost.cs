using System.Buffers;
using System.Net.WebSockets;
using Fabric.Contracts;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;
using Fabric.Gateway.Sockets.Auth;
using Fabric.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// One socket's life on this gateway, from the request to the last clean-up: checks before the upgrade (origin,
/// customer, subprotocol, drain, credential, the customer's connection limit), the upgrade, the receive and send loops,
/// and every service told when it ends. The shape of SignalR's <c>HubConnectionHandler</c>: endpoints map to it, and
/// nothing else starts or ends a session.
/// </summary>
internal sealed class SocketHost(
    FeedRegistry registry,
    SocketAuthenticator authenticator,
    SocketCommands commands,
    CustomerGrains grains,
    SocketDrain drain,
    TokenExpiry expiry,
    IOptions<SocketOptions> options,
    KeepAliveWheel keepAlives,
    TimeProvider clock,
    ILoggerFactory loggers)
{
    private readonly SocketOptions _settings = options.Value;

    /// <summary>Serves <c>GET /v1/ws</c> until the socket is closed.</summary>
    public async Task RunAsync(HttpContext context)
    {
        var customer = context.Request.Query["customer"].ToString();
        var requested = context.WebSockets.WebSocketRequestedProtocols;
        if (Refusal(context, customer, requested) is { } refusal)
        {
            await refusal.ExecuteAsync(context);
            return;
        }

        var id = SocketSession.NewId();
        if (await AdmitAsync(context, customer, id) is not { } admitted)
        {
            return;
        }

        var protocol = requested.Count == 0 ? null
            : requested.Contains(SocketEndpoints.BatchSubProtocol) ? SocketEndpoints.BatchSubProtocol : SocketEndpoints.SubProtocol;
        SocketSession session;
        try
        {
            var (socket, coalescer) = await SocketUpgrade.AcceptAsync(context, protocol, _settings, keepAlives);
            session = new SocketSession(
                customer, id, admitted.Credential, socket, _settings, loggers.CreateLogger<SocketSession>(), coalescer, protocol == SocketEndpoints.BatchSubProtocol, clock);
        }
        catch
        {
            // Admitted but never upgraded: the grain must not count it.
            await grains.Get(customer).Disconnect(registry.GatewayId, id);
            throw;
        }

        using var disposeSocket = session.Socket;
        using var disposeSession = session;
        await RunSessionAsync(session, protocol, admitted.Epoch, context.RequestAborted);
    }

    /// <summary>What is refused before anything is looked up: not a socket, a foreign origin, a bad id, an unknown subprotocol, a drain.</summary>
    private ProblemHttpResult? Refusal(HttpContext context, string customer, IList<string> requested) =>
        !context.WebSockets.IsWebSocketRequest ? Problems.BadRequest("websocket-required", "This endpoint takes WebSocket connections only.")
        : !AllowedOrigins.IsAllowed(context.Request.Headers.Origin, _settings.AllowedOrigins) ? Problems.ForbiddenOrigin()
        : !InputRules.IsValidId(customer) ? Problems.InvalidCustomer()
        : requested.Count > 0 && !requested.Contains(SocketEndpoints.SubProtocol) && !requested.Contains(SocketEndpoints.BatchSubProtocol)
            ? Problems.BadRequest("unsupported-subprotocol", $"The subprotocols are {SocketEndpoints.BatchSubProtocol} and {SocketEndpoints.SubProtocol}.")
        : drain.Draining ? Problems.Unavailable("This gateway is shutting down; connect to another.")
        : null;

    /// <summary>
    /// Everything before the upgrade: the credential (401/403), then admission by the customer's grain (429). A stranger
    /// activates no grain and writes nothing; a cluster that does not answer in AuthTimeout gets a 503, not a hang.
    /// Null when the request was answered here.
    /// </summary>
    private async Task<(SocketCredential Credential, LogEpoch Epoch)?> AdmitAsync(HttpContext context, string customer, string id)
    {
        SessionAdmission admission;
        SocketCredential credential;
        try
        {
            var (checkedCredential, problem) = await authenticator.AuthenticateAsync(context, customer).WaitAsync(_settings.AuthTimeout);
            if (problem is not null)
            {
                await problem.ExecuteAsync(context);
                return null;
            }

            credential = checkedCredential!;
            var pending = new SocketSession.Pending(id, customer, credential);
            admission = await grains.Get(customer).Connect(pending.Describe(registry.GatewayId), _settings.MaxConnectionsPerCustomer).WaitAsync(_settings.AuthTimeout);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            await Problems.Unavailable("The credential or the session could not be checked right now; retry.").ExecuteAsync(context);
            return null;
        }

        if (!admission.Admitted)
        {
            await Problems.TooManyConnections($"This customer already holds {admission.Sessions} sockets, its limit.").ExecuteAsync(context);
            return null;
        }

        return (credential, admission.Epoch);
    }

    /// <summary>The session's loops, then the clean-up every service needs, whatever ended it.</summary>
    private async Task RunSessionAsync(SocketSession session, string? protocol, LogEpoch epoch, CancellationToken aborted)
    {
        var member = registry.Attach(session);
        GatewayTelemetry.ActiveSockets.Add(1);
        expiry.Track(session);
        try
        {
            var sending = session.RunSendLoopAsync();
            SocketReplies.Welcome(session, protocol, epoch.Id);
            await ReceiveAsync(session, member, aborted);
            session.RequestClose(CloseCodes.Normal, "bye");
            await sending;
        }
        finally
        {
            session.Ended = true;
            session.Coalescer?.Detach();
            registry.Detach(member);
            registry.Disconnected(session);
            expiry.Ended(session);
            GatewayTelemetry.ActiveSockets.Add(-1);
            GatewayTelemetry.Closes.Add(1, new KeyValuePair<string, object?>("code", session.CloseCode ?? 1006));
        }
    }

    /// <summary>Reads frames until the client closes, the socket fails, or the server closes it.</summary>
    private async Task ReceiveAsync(SocketSession session, FeedMember member, CancellationToken requestAborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, session.ReceiveAborted);
        var socket = session.Socket;
        byte[]? buffer = null;
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                // An idle socket waits with a zero-byte read and holds no buffer (4 KiB per idle socket otherwise,
                // two thirds of the per-socket budget); the buffer is rented once a frame has started to arrive.
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }

                var first = await socket.ReceiveAsync(Memory<byte>.Empty, linked.Token);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    session.RequestClose(CloseCodes.Normal, "bye");
                    return;
                }

                buffer = ArrayPool<byte>.Shared.Rent(4096);
                var count = 0;
                var result = first;
                while (!result.EndOfMessage)
                {
                    if (count == buffer.Length)
                    {
                        if (buffer.Length >= _settings.MaxMessageBytes)
                        {
                            session.RequestClose(CloseCodes.MessageTooBig, "message too big");
                            return;
                        }

                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _settings.MaxMessageBytes));
                        buffer.AsSpan(0, count).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    var limit = Math.Min(buffer.Length, _settings.MaxMessageBytes);
                    result = await socket.ReceiveAsync(buffer.AsMemory(count, limit - count), linked.Token);
                    count += result.Count;
                    if (!result.EndOfMessage && count >= _settings.MaxMessageBytes)
                    {
                        session.RequestClose(CloseCodes.MessageTooBig, "message too big");
                        return;
                    }
                }

                switch (result.MessageType)
                {
                    case WebSocketMessageType.Close:
                        session.RequestClose(CloseCodes.Normal, "bye");
                        return;
                    case WebSocketMessageType.Binary:
                        if (commands.Admit(session))
                        {
                            session.Invalid("binary_not_supported", "Frames must be JSON text.");
                        }

                        break;
                    default:
                        await commands.HandleAsync(member, buffer.AsMemory(0, count));
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // Aborted by the peer, by the host, or after a close the client never answered.
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
