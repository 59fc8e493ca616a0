using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fabric.Contracts;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Fabric.Gateway.Sockets.Auth;
using Fabric.Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// What the server does with each client frame (docs/protocol.md): <c>subscribe</c>, <c>unsubscribe</c>,
/// <c>publish</c>, <c>presence</c>, <c>refresh</c>, <c>ping</c>. One instance for the gateway; what belongs to one socket
/// lives on its <see cref="SocketSession"/> (credential, counters) and its <see cref="FeedMember"/> (topics, position).
/// Frames of one socket are handled one at a time, in order, so every reply is queued before the next frame is read.
/// </summary>
internal sealed partial class SocketCommands(
    FeedRegistry registry,
    CustomerGrains grains,
    EventIngestor ingestor,
    SocketAuthenticator authenticator,
    TokenExpiry expiry,
    RateLimits rates,
    IOptions<SocketOptions> options,
    ILogger<SocketCommands> logger)
{
    /// <summary>The source recorded for events published from a socket.</summary>
    public const string Source = BuiltInSources.Socket;

    /// <summary>Largest <c>ref</c> a client may attach; it is echoed in the reply.</summary>
    public const int MaxRefLength = 64;

    private readonly SocketOptions _options = options.Value;

    /// <summary>
    /// Charges a frame to the socket's inbound bucket; false (after an <c>error</c> and a close with 4008) when the client
    /// sends faster than <see cref="SocketOptions.MessagesPerSecond"/>.
    /// </summary>
    public bool Admit(SocketSession session)
    {
        if (session.Inbound.TryTake())
        {
            return true;
        }

        SocketReplies.Error(session, "rate_limited", $"More than {_options.MessagesPerSecond} frames per second; the socket is closed (4008).", null);
        Log.RateLimited(logger, session.Id, session.Customer);
        session.RequestCloseAfterQueued(CloseCodes.RateLimited, "message rate exceeded");
        return false;
    }

    public async Task HandleAsync(FeedMember member, ReadOnlyMemory<byte> text)
    {
        var session = member.Session;
        if (!Admit(session))
        {
            return;
        }

        ClientFrame? frame;
        try
        {
            frame = JsonSerializer.Deserialize(text.Span, SocketJsonContext.Default.ClientFrame);
        }
        catch (JsonException)
        {
            session.Invalid("invalid_json", "The frame is not a JSON object of the documented shape.");
            return;
        }

        var @ref = frame?.Ref;
        if (@ref is { Length: 0 or > MaxRefLength })
        {
            session.Invalid("invalid_ref", $"\"ref\" must be a string of 1 to {MaxRefLength} characters.");
            return;
        }

        switch (frame?.Op)
        {
            case "ping":
                SocketReplies.Pong(session, @ref);
                break;
            case "subscribe":
                await SubscribeAsync(member, frame, @ref);
                break;
            case "unsubscribe":
                if (ValidateTopics(member, frame.Topics, adding: false, @ref))
                {
                    member.Feed.Unsubscribe(member, frame.Topics!, @ref);
                    member.Feed.Unwatch(member, frame.Topics!);
                    await registry.UpdateSessionAsync(member);
                }

                break;
            case "publish":
                await PublishAsync(session, frame, @ref);
                break;
            case "presence":
                await PresenceAsync(session, frame.Topic, @ref);
                break;
            case "refresh":
                await RefreshAsync(session, frame.Token, @ref);
                break;
            case null:
                session.Invalid("missing_op", "Every frame needs an \"op\".", @ref);
                break;
            default:
                session.Invalid("unknown_op", "Known ops: subscribe, unsubscribe, publish, presence, refresh, ping.", @ref);
                break;
        }
    }

    private async Task SubscribeAsync(FeedMember member, ClientFrame frame, string? @ref)
    {
        var session = member.Session;
        if (!ValidateTopics(member, frame.Topics, adding: true, @ref) || !ValidateSince(session, frame.Since, frame.Epoch, @ref))
        {
            return;
        }

        if (frame.Topics!.FirstOrDefault(t => !session.Credential.CanSubscribe.Covers(t)) is { } denied)
        {
            SocketReplies.Error(session, "forbidden", $"The credential does not allow subscribing to \"{denied}\" (sub_topics).", @ref);
            return;
        }

        try
        {
            session.BeginHandling();
            if (frame.Presence == true)
            {
                member.Feed.Watch(member, frame.Topics!);
            }

            await member.Feed.SubscribeAsync(member, frame.Topics!, frame.Since, frame.Epoch, @ref);
            await registry.UpdateSessionAsync(member);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever failed, the socket cannot be positioned: say so with a close code, not a dropped connection.
            Log.SubscribeFailed(logger, ex, session.Id, session.Customer);
            session.RequestClose(CloseCodes.Unavailable, "cluster unavailable");
        }
        finally
        {
            session.EndHandling();
        }
    }

    /// <summary>
    /// A socket's event, appended like any other (seq, history, every matching socket on every gateway), answered only
    /// once the grain kept it. The client's <c>id</c> is its idempotency key, scoped to its <c>sub</c> so that one user
    /// cannot collide with (or learn of) another's.
    /// </summary>
    private async Task PublishAsync(SocketSession session, ClientFrame frame, string? @ref)
    {
        var topic = frame.Topic;
        if (!InputRules.IsValidType(topic))
        {
            RejectInvalid(session, "invalid_topic", "\"topic\" is the event type: 1-200 printable ASCII characters without spaces or '*'.", @ref);
            return;
        }

        if (!session.Credential.CanPublish.Matches(topic!))
        {
            Refuse(session, "forbidden", $"The credential does not allow publishing to \"{topic}\" (pub_topics).", @ref);
            return;
        }

        if (frame.Data is not { } data)
        {
            RejectInvalid(session, "missing_data", "\"data\" is required (any JSON value).", @ref);
            return;
        }

        var bytes = JsonMarshal.GetRawUtf8Value(data);
        if (bytes.Length > _options.MaxPublishBytes)
        {
            RejectInvalid(session, "payload_too_large", $"\"data\" is larger than {_options.MaxPublishBytes} bytes.", @ref);
            return;
        }

        string? key = null;
        if (frame.Id is not null)
        {
            key = ScopedKey(session.Credential.Sub, frame.Id);
            if (!InputRules.IsValidKey(key))
            {
                RejectInvalid(session, "invalid_id", $"\"id\" must be 1-{InputRules.MaxKeyLength - ScopePrefixLength} printable ASCII characters without spaces.", @ref);
                return;
            }
        }

        if (!rates.TryTake(session.Customer))
        {
            Refuse(session, "rate_limited", $"This customer is over its limit of {rates.PermitsPerSecond} events per second; retry later.", @ref);
            return;
        }

        var incoming = new IncomingEvent(Source, topic!, "application/json", bytes.ToArray(), key, TraceParent: null);
        if (await ingestor.AppendAsync(session.Customer, incoming) is { } result)
        {
            if (result.Dropped)
            {
                SocketReplies.Dropped(session, @ref);
            }
            else if (result.Rejected is { } kind)
            {
                Refuse(session, "transform_rejected", $"The customer's transform failed ({kind}) and its policy rejects the event; nothing was stored.", @ref);
            }
            else
            {
                SocketReplies.Published(session, @ref, result.Id, result.Seq, result.Duplicate);
            }
        }
        else
        {
            Refuse(session, "unavailable", "The event could not be confirmed as stored; publish it again with the same id.", @ref);
        }
    }

    /// <summary>A publish refused for its content (an invalid frame, which counts toward the socket's limit of those).</summary>
    private static void RejectInvalid(SocketSession session, string code, string message, string? @ref)
    {
        RejectionMeter.Count("socket", code);
        session.Invalid(code, message, @ref);
    }

    /// <summary>A valid publish refused (forbidden, over a limit, not stored): counted with the HTTP refusals, by code.</summary>
    private static void Refuse(SocketSession session, string code, string message, string? @ref)
    {
        RejectionMeter.Count("socket", code);
        SocketReplies.Error(session, code, message, @ref);
    }

    // "u" + 16 hex digits + ":".
    private const int ScopePrefixLength = 18;

    /// <summary><c>u{first 8 bytes of SHA-256(sub), hex}:{id}</c>: printable, fixed-length, whatever the <c>sub</c> holds.</summary>
    private static string ScopedKey(string sub, string id) =>
        "u" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sub)).AsSpan(0, 8)) + ":" + id;

    /// <summary>Who holds a subscription matching the topic, across every gateway, once per <c>sub</c>.</summary>
    private async Task PresenceAsync(SocketSession session, string? topic, string? @ref)
    {
        if (!TopicFilter.IsValidTopic(topic))
        {
            session.Invalid("invalid_topic", "\"topic\" must be a topic: 1-200 printable ASCII characters without spaces; '*' only at the end.", @ref);
            return;
        }

        if (!session.Credential.CanSubscribe.Covers(topic!))
        {
            SocketReplies.Error(session, "forbidden", $"The credential does not allow seeing \"{topic}\" (sub_topics).", @ref);
            return;
        }

        IReadOnlyList<PresenceMember> members;
        try
        {
            members = await grains.Get(session.Customer).GetPresence(topic!);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            SocketReplies.Error(session, "unavailable", "Presence could not be read right now; ask again.", @ref);
            return;
        }

        SocketReplies.Presence(session, topic!, [.. members.Select(Member)], @ref);
    }

    /// <summary>A member as frames show it: <c>info</c> is the token's claim, spliced as JSON.</summary>
    public static MemberView Member(PresenceMember member)
    {
        JsonElement? info = null;
        if (member.Info is not null)
        {
            using var document = JsonDocument.Parse(member.Info);
            info = document.RootElement.Clone();
        }

        return new MemberView(member.Sub, info);
    }

    /// <summary>A fresh token for the same <c>sub</c> extends the socket's life; a bad one changes nothing.</summary>
    private async Task RefreshAsync(SocketSession session, string? token, string? @ref)
    {
        if (string.IsNullOrEmpty(token))
        {
            session.Invalid("invalid_token", "\"token\" is required.", @ref);
            return;
        }

        (SocketCredential? credential, string? reason) result;
        try
        {
            result = await authenticator.RefreshAsync(session.Customer, token, session.Credential);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            SocketReplies.Error(session, "unavailable", "The token could not be checked right now; send it again.", @ref);
            return;
        }

        if (result.credential is not { } credential)
        {
            SocketReplies.Error(session, "invalid_token", result.reason!, @ref);
            return;
        }

        session.Credential = credential;
        expiry.Track(session);
        SocketReplies.Refreshed(session, @ref, credential.Expires!.Value);
    }

    private bool ValidateTopics(FeedMember member, string[]? topics, bool adding, string? @ref)
    {
        var session = member.Session;
        if (topics is not { Length: > 0 } || !topics.All(TopicFilter.IsValidTopic))
        {
            session.Invalid("invalid_topics", "\"topics\" must be a non-empty array of event types; '*' is allowed only at the end.", @ref);
            return false;
        }

        if (adding && member.Topics.With(topics).Count > _options.MaxTopics)
        {
            session.Invalid("too_many_topics", $"A socket may hold at most {_options.MaxTopics} topics.", @ref);
            return false;
        }

        return true;
    }

    private static bool ValidateSince(SocketSession session, long? since, string? epoch, string? @ref)
    {
        if (since is < 0 or > InputRules.MaxSeq)
        {
            session.Invalid("invalid_since", $"\"since\" must be a seq from 0 to {InputRules.MaxSeq}.", @ref);
            return false;
        }

        if (epoch is not null && (epoch.Length is 0 or > InputRules.MaxIdLength || since is null))
        {
            session.Invalid("invalid_epoch", "\"epoch\" must be the epoch of a \"subscribed\" frame, given with \"since\".", @ref);
            return false;
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(302, LogLevel.Warning, "Socket {Session} of customer {Customer} could not be positioned")]
        public static partial void SubscribeFailed(ILogger logger, Exception exception, string session, string customer);

        [LoggerMessage(303, LogLevel.Information, "Socket {Session} of customer {Customer} closed: it sent frames faster than its rate")]
        public static partial void RateLimited(ILogger logger, string session, string customer);
    }
}
