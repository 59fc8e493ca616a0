using Fabric.Contracts;
using Fabric.Grains.Customers;
using Microsoft.Extensions.Time.Testing;

namespace Fabric.Grains.Tests.Parts;

/// <summary>Sessions and presence without a cluster: admission, joins and leaves per sub, expiry, and what a change costs.</summary>
public sealed class SessionTableTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly List<PresenceNotice> _notices = [];
    private readonly SessionTable _table;

    // The gateways are a live view, read by the grain at once: a copy is kept here.
    public SessionTableTests() => _table = new SessionTable(_clock, TimeSpan.FromSeconds(90), n => _notices.Add(n with { Gateways = [.. n.Gateways] }));

    private static SessionInfo Session(string id, string sub, string gateway = "gw-1", string[]? topics = null, string[]? watching = null, string? info = null) =>
        new(id, sub, info, gateway, DateTimeOffset.UtcNow, topics ?? [], watching ?? []);

    private IEnumerable<(string Topic, bool Joined, string Sub)> Heard => _notices.Select(n => (n.Topic, n.Joined, n.Member.Sub));

    [Fact]
    public void Sessions_are_admitted_up_to_the_limit_and_a_known_session_is_refreshed_at_the_limit()
    {
        Assert.True(_table.Connect(Session("s1", "alice"), limit: 2));
        Assert.True(_table.Connect(Session("s2", "bob"), limit: 2));
        Assert.False(_table.Connect(Session("s3", "carol"), limit: 2));
        Assert.True(_table.Connect(Session("s2", "bob", topics: ["room"]), limit: 2));

        _table.Disconnect("gw-1", "s1");
        Assert.True(_table.Connect(Session("s3", "carol"), limit: 2));
        Assert.Equal(["s2", "s3"], _table.List().Select(s => s.Session).Order());
    }

    [Fact]
    public void A_sub_joins_once_whatever_its_sessions_and_leaves_with_its_last()
    {
        _table.Connect(Session("w", "watcher", watching: ["chat.room1"]), 100);
        _table.Connect(Session("b1", "bob", "gw-2", topics: ["chat.*"], info: "Bob"), 100);
        _table.Connect(Session("b2", "bob", "gw-2", topics: ["chat.room1"]), 100);   // a second tab: no second join

        Assert.Equal([("chat.room1", true, "bob")], Heard);
        Assert.Equal(["gw-1"], _notices[0].Gateways);
        Assert.Equal([new PresenceMember("bob", "Bob")], _table.Presence("chat.room1"));

        _table.Disconnect("gw-2", "b1");                                             // one tab left: bob stays
        _table.Update(Session("b2", "bob", "gw-2", topics: ["other"]));              // the last one leaves
        Assert.Equal([("chat.room1", true, "bob"), ("chat.room1", false, "bob")], Heard);
        Assert.Empty(_table.Presence("chat.room1"));
    }

    [Fact]
    public void A_session_that_starts_watching_a_topic_it_is_in_is_announced_there()
    {
        _table.Connect(Session("w", "watcher"), 100);
        _table.Update(Session("w", "watcher", topics: ["chat.room1"], watching: ["chat.room1"]));

        Assert.Equal([("chat.room1", true, "watcher")], Heard);
    }

    [Theory]
    [InlineData("chat.room1", "chat.room1", true)]
    [InlineData("chat.*", "chat.room1", true)]
    [InlineData("*", "chat.room1", true)]
    [InlineData("c*", "chat.room1", true)]
    [InlineData("chat.*", "chat.*", true)]
    [InlineData("chat*", "chat.*", true)]
    [InlineData("chat.room1", "chat.*", false)]
    [InlineData("chat.room", "chat.room1", false)]
    [InlineData("chat.room1.*", "chat.room1", false)]
    public void Membership_follows_the_topic_patterns_of_sockets(string pattern, string topic, bool member)
    {
        _table.Connect(Session("w", "watcher", watching: [topic]), 100);
        _table.Connect(Session("s", "alice", topics: [pattern]), 100);

        Assert.Equal(member, _table.Presence(topic).Any(m => m.Sub == "alice"));
        Assert.Equal(member, Heard.Contains((topic, true, "alice")));
        Assert.Equal(member, TopicPatterns.Matches(pattern, topic));
    }

    [Fact]
    public void Nobody_hears_joins_in_topics_nobody_watches()
    {
        _table.Connect(Session("s", "alice", topics: ["chat.room1", "chat.*"]), 100);
        _table.Kick("s");

        Assert.Empty(_notices);
    }

    [Fact]
    public void A_silent_gateways_sessions_expire_and_leave_while_an_ended_session_stays_ended()
    {
        _table.Connect(Session("w", "watcher", "gw-1", watching: ["room"]), 100);
        _table.Connect(Session("s2", "bob", "gw-silent", topics: ["room"]), 100);
        _table.Connect(Session("s3", "carol", "gw-1", topics: ["room"]), 100);
        Assert.NotNull(_table.Kick("s3"));
        _table.Update(Session("s3", "carol", "gw-1", topics: ["room"]));   // sent before the socket closed: stays ended

        _clock.Advance(TimeSpan.FromSeconds(91));
        Assert.Equal(1, _table.CountOf("gw-1"));

        Assert.Equal(["w"], _table.List().Select(s => s.Session));
        Assert.Equal([("room", true, "bob"), ("room", true, "carol"), ("room", false, "carol"), ("room", false, "bob")], Heard);
    }

    [Fact]
    public void A_sync_keeps_the_gateways_list_and_drops_the_rest()
    {
        _table.Connect(Session("s1", "alice"), 100);
        _table.Connect(Session("s2", "bob"), 100);
        _table.Connect(Session("other", "dave", "gw-2"), 100);

        _table.Sync("gw-1", [Session("s2", "bob"), Session("s3", "carol"), Session("foreign", "eve", "gw-2")]);

        Assert.Equal(["other", "s2", "s3"], _table.List().Select(s => s.Session).Order());
        Assert.Equal(2, _table.CountOf("gw-1"));
    }

    [Fact]
    public void A_session_that_changes_sub_leaves_as_the_old_one_and_joins_as_the_new_one()
    {
        _table.Connect(Session("w", "watcher", watching: ["room"]), 100);
        _table.Connect(Session("s", "alice", topics: ["room"]), 100);
        _table.Update(Session("s", "bob", topics: ["room"]));

        Assert.Equal([("room", true, "alice"), ("room", false, "alice"), ("room", true, "bob")], Heard);
        Assert.Equal(["bob"], _table.Presence("room").Select(m => m.Sub));
    }

    [Fact]
    public void A_session_changing_sub_that_is_its_gateways_only_watcher_still_tells_it_the_old_sub_left()
    {
        _table.Connect(Session("s", "alice", "gw-2", topics: ["room"], watching: ["room"]), 100);
        _table.Update(Session("s", "bob", "gw-2", topics: ["room"], watching: ["room"]));

        Assert.Equal([("room", true, "alice"), ("room", false, "alice"), ("room", true, "bob")], Heard);
        Assert.All(_notices, n => Assert.Equal(["gw-2"], n.Gateways));
    }

    /// <summary>
    /// One credential with thousands of sockets, each in and watching 128 topics: a subscribe used to walk every watched
    /// topic × every session of the sub × its topics. Now it costs the same whatever the number of sessions.
    /// </summary>
    [Fact]
    public void One_more_subscribe_costs_its_own_topics_whatever_the_sessions_of_its_sub()
    {
        var topics = Enumerable.Range(0, 128).Select(i => $"room.{i}").ToArray();

        long CostOfOneSubscribe(int sessions)
        {
            var table = new SessionTable(_clock, TimeSpan.FromSeconds(90), _ => { });
            for (var i = 0; i < sessions; i++)
            {
                table.Connect(Session($"s{i}", "crowd", topics: topics, watching: topics), int.MaxValue);
            }

            table.Connect(Session("late", "crowd", watching: topics), int.MaxValue);
            var before = table.Probes;
            table.Update(Session("late", "crowd", topics: [.. topics, "room.new"], watching: topics));
            return table.Probes - before;
        }

        var few = CostOfOneSubscribe(10);
        var many = CostOfOneSubscribe(2_000);

        Assert.Equal(few, many);
        Assert.True(many <= 2 * 129 * ("room.127".Length + 2), $"{many} probes for 129 topics");
    }
}
