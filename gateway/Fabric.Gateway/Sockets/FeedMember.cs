using Fabric.Contracts;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// One socket as its customer's feed sees it: what it receives, whose joins and leaves it hears, and where it stands
/// in the log. The feed creates and owns it; its position (<see cref="Started"/>, <see cref="Live"/>,
/// <see cref="Cursor"/>, <see cref="RingDeferred"/>) is touched only under the feed's lock.
/// </summary>
internal sealed class FeedMember(CustomerFeed feed, SocketSession session)
{
    public CustomerFeed Feed { get; } = feed;

    public SocketSession Session { get; } = session;

    /// <summary>Topics this socket receives; swapped whole under the feed's lock, read without one.</summary>
    public TopicFilter Topics { get; set; } = TopicFilter.None;

    /// <summary>Topics whose joins and leaves this socket asked for (<c>"presence": true</c>); swapped whole under the feed's lock.</summary>
    public IReadOnlyList<string> Watching { get; set; } = [];

    /// <summary>True once the first <c>subscribe</c> has started positioning this socket.</summary>
    public bool Started { get; set; }

    /// <summary>True once the socket has caught up and takes events straight from the feed.</summary>
    public bool Live { get; set; }

    /// <summary>The highest seq this socket has been offered (sent or filtered out).</summary>
    public long Cursor { get; set; }

    /// <summary>Frames were queued for this socket in the current release and its send loop is not rung yet.</summary>
    public bool RingDeferred { get; set; }

    /// <summary>This session as the customer's grain keeps it.</summary>
    public SessionInfo Describe(string gateway) =>
        new(Session.Id, Session.Credential.Sub, Session.Credential.Info, gateway, Session.ConnectedAt, Topics.Topics, Watching);
}
