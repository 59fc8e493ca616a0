using Fabric.Contracts;

namespace Fabric.Grains.Tests;

/// <summary>The customer grain's session list: admission, presence with joins and leaves, operator kicks, expiry and hand-over.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SessionGrainTests(ClusterFixture fixture)
{
    private static SessionInfo Session(string id, string sub, string gateway, string[]? topics = null, string[]? watching = null, string? info = null) =>
        new(id, sub, info, gateway, DateTimeOffset.UtcNow, topics ?? [], watching ?? []);

    [Fact]
    public async Task Sessions_are_admitted_up_to_the_limit_across_gateways_and_a_disconnect_frees_a_place()
    {
        var grain = fixture.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        Assert.True((await grain.Connect(Session("s1", "alice", "gw-1"), limit: 2)).Admitted);
        Assert.True((await grain.Connect(Session("s2", "bob", "gw-2"), limit: 2)).Admitted);
        var refused = await grain.Connect(Session("s3", "carol", "gw-1"), limit: 2);
        Assert.Equal((false, 2), (refused.Admitted, refused.Sessions));

        await grain.Disconnect("gw-2", "s2");
        Assert.True((await grain.Connect(Session("s3", "carol", "gw-1"), limit: 2)).Admitted);
        Assert.Equal(["s1", "s3"], (await grain.GetSessions()).Select(s => s.Session).Order());
    }

    [Fact]
    public async Task Presence_counts_a_sub_once_and_watchers_hear_each_join_and_leave_once()
    {
        var grain = fixture.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        var observer = new PushTests.RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IGatewayObserver>(observer);
        try
        {
            await grain.Subscribe("gw-1", 1, reference, null);
            await grain.Connect(Session("w", "watcher", "gw-1"), 100);
            await grain.UpdateSession(Session("w", "watcher", "gw-1", topics: ["chat.room1"], watching: ["chat.room1"]));
            await grain.Connect(Session("b1", "bob", "gw-2"), 100);
            await grain.UpdateSession(Session("b1", "bob", "gw-2", topics: ["chat.*"], info: "{\"name\":\"Bob\"}"));
            await grain.Connect(Session("b2", "bob", "gw-2"), 100);
            await grain.UpdateSession(Session("b2", "bob", "gw-2", topics: ["chat.room1"]));   // a second tab: no second join

            var members = await grain.GetPresence("chat.room1");
            Assert.Equal(["bob", "watcher"], members.Select(m => m.Sub).Order());
            Assert.Equal("{\"name\":\"Bob\"}", members.Single(m => m.Sub == "bob").Info);

            await grain.Disconnect("gw-2", "b1");                                              // one tab left: bob stays
            await grain.UpdateSession(Session("b2", "bob", "gw-2", topics: ["other"]));         // the last one leaves the topic
            await Eventually.True(() => observer.Presence.Count(c => c.Member.Sub == "bob") == 2);
            Assert.Equal([true, false], observer.Presence.Where(c => c.Member.Sub == "bob").Select(c => c.Joined));
            Assert.All(observer.Presence, c => Assert.Equal("chat.room1", c.Topic));
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IGatewayObserver>(reference);
        }
    }

    [Fact]
    public async Task A_kick_reaches_the_gateway_holding_the_session_and_a_silent_gateways_sessions_expire()
    {
        var grain = fixture.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        var observer = new PushTests.RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IGatewayObserver>(observer);
        try
        {
            await grain.Subscribe("gw-1", 1, reference, null);
            await grain.Connect(Session("s1", "alice", "gw-1"), 100);
            await grain.Connect(Session("s2", "bob", "gw-silent", topics: ["room"]), 100);

            Assert.True(await grain.Kick("s1"));
            Assert.False(await grain.Kick("s1"));
            await Eventually.True(() => observer.Kicks.Contains("s1"));

            // The next renewal reports how many of its sessions the grain holds; a gateway that disagrees hands them over.
            Assert.Equal(0, (await grain.Subscribe("gw-1", 2, reference, null)).Sessions);
            await grain.SyncSessions("gw-1", [Session("s3", "carol", "gw-1", watching: ["room"]), Session("s4", "dave", "gw-1")]);
            Assert.Equal(2, (await grain.Subscribe("gw-1", 3, reference, null)).Sessions);

            fixture.Clock.Advance(TimeSpan.FromSeconds(91));
            await grain.Subscribe("gw-1", 4, reference, null);   // gw-1 keeps renewing; gw-silent does not

            // The renewal alone expires the silent gateway's sessions: its watcher hears bob leave without asking.
            await Eventually.True(() => observer.Presence.Any(p => p.Member.Sub == "bob" && !p.Joined));
            Assert.Equal(["s3", "s4"], (await grain.GetSessions()).Select(s => s.Session).Order());
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IGatewayObserver>(reference);
        }
    }

    [Fact]
    public async Task A_session_ended_here_is_not_brought_back_by_a_renewal_or_an_update_sent_before_its_socket_closed()
    {
        var grain = fixture.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        var observer = new PushTests.RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IGatewayObserver>(observer);
        try
        {
            await grain.Subscribe("gw-1", 1, reference, null);
            await grain.Connect(Session("w", "watcher", "gw-1", topics: ["room"], watching: ["room"]), 100);
            await grain.Connect(Session("k", "kicked", "gw-2", topics: ["room"]), 100);
            await grain.Connect(Session("d", "done", "gw-2", topics: ["room"]), 100);
            Assert.True(await grain.Kick("k"));
            await grain.Disconnect("gw-2", "d");

            // gw-2 still listed both when it renewed, and its last update of one was on the way: both arrive after.
            await grain.SyncSessions("gw-2", [Session("k", "kicked", "gw-2", topics: ["room"]), Session("d", "done", "gw-2", topics: ["room"])]);
            await grain.UpdateSession(Session("k", "kicked", "gw-2", topics: ["room"]));

            Assert.Equal(["w"], (await grain.GetSessions()).Select(s => s.Session));
            await Eventually.True(() => observer.Presence.Count(c => !c.Joined) == 2);
            // Each joined once and left once: no join brought either back.
            Assert.Equal([true, false], observer.Presence.Where(c => c.Member.Sub == "kicked").Select(c => c.Joined));
            Assert.Equal([true, false], observer.Presence.Where(c => c.Member.Sub == "done").Select(c => c.Joined));
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IGatewayObserver>(reference);
        }
    }
}
