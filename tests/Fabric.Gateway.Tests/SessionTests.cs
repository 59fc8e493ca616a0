using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

/// <summary>
/// Authenticated, two-way sessions (docs/protocol.md): who may connect, subscribe and publish, chat between sockets,
/// presence, the admin view of sessions, and token refresh.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class SessionTests(GatewayFixture fixture)
{
    public enum Credential { ApiKeyOfA, TokenOfA, TokenOfB, ExpiredToken, TamperedToken, TokenForAnotherKid, None }

    /// <summary>The isolation matrix: each credential × connect to A, subscribe in/outside sub_topics, publish in/outside pub_topics.</summary>
    [Theory]
    [InlineData(Credential.ApiKeyOfA, true)]
    [InlineData(Credential.TokenOfA, true)]
    [InlineData(Credential.TokenOfB, false)]
    [InlineData(Credential.ExpiredToken, false)]
    [InlineData(Credential.TamperedToken, false)]
    [InlineData(Credential.TokenForAnotherKid, false)]
    [InlineData(Credential.None, false)]
    public async Task Only_a_credential_of_the_customer_opens_its_sockets_and_a_token_only_reaches_its_topics(Credential kind, bool opens)
    {
        var a = await SessionCustomer.CreateAsync(fixture.Http);
        var b = await SessionCustomer.CreateAsync(fixture.Http);
        var second = await fixture.Http.PostAsync($"/v1/admin/customers/{a.Id}/signing-keys", null);
        var otherKid = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var token = await a.TokenAsync("alice", subTopics: ["chat.*"], pubTopics: ["chat.*"]);
        var credential = kind switch
        {
            Credential.ApiKeyOfA => await a.ApiKeyAsync("subscribe", "publish"),
            Credential.TokenOfA => token,
            Credential.TokenOfB => await b.TokenAsync("mallory", pubTopics: ["*"]),
            Credential.ExpiredToken => await a.TokenAsync("alice", lifetime: TimeSpan.FromMinutes(-5)),
            Credential.TamperedToken => Tamper(token),
            Credential.TokenForAnotherKid => await a.TokenAsync("alice", kid: otherKid),
            _ => null,
        };

        // A socket of B listens throughout: nothing of A may reach it.
        await using var socketOfB = await FabricSocket.ConnectAsync(fixture.BaseAddress, b.Id, credential: await b.TokenAsync("bob"), inQuery: true);
        await socketOfB.SubscribeAsync(["*"], since: 0);

        // Browser-style (token in the query) and service-style (key in the header) alike.
        foreach (var inQuery in new[] { true, false })
        {
            var (status, _) = await SessionAsserts.HandshakeAsync(fixture.BaseAddress, a.Id, credential, inQuery);
            Assert.Equal(opens ? HttpStatusCode.SwitchingProtocols : HttpStatusCode.Unauthorized, status);
        }

        if (opens)
        {
            await using var socket = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: credential, inQuery: kind == Credential.TokenOfA);
            var restricted = kind == Credential.TokenOfA;

            await socket.SendAsync(new { op = "subscribe", topics = new[] { "chat.room1" }, @ref = "s1" });
            var subscribed = await socket.ReceiveAsync();
            Assert.Equal(("subscribed", "s1"), (subscribed.GetProperty("op").GetString(), subscribed.GetProperty("ref").GetString()));

            await socket.SendAsync(new { op = "subscribe", topics = new[] { "admin.audit" }, @ref = "s2" });
            var outside = await socket.ReceiveAsync();
            Assert.Equal((restricted ? "error" : "subscribed", "s2"), (outside.GetProperty("op").GetString(), outside.GetProperty("ref").GetString()));
            if (restricted)
            {
                Assert.Equal("forbidden", outside.GetProperty("code").GetString());
            }

            await socket.PublishAsync("chat.room1", new { text = "hi" }, @ref: "p1");
            var published = await socket.ReceiveOpAsync("published");
            Assert.Equal("p1", published.GetProperty("ref").GetString());

            await socket.PublishAsync("admin.audit", new { text = "sneaky" }, @ref: "p2");
            var reply = await socket.ReceiveAsync(); 
            while (reply.GetProperty("op").GetString() == "event")
            {
                reply = await socket.ReceiveAsync();
            }

            Assert.Equal((restricted ? "error" : "published", "p2"), (reply.GetProperty("op").GetString(), reply.GetProperty("ref").GetString()));
            if (restricted)
            {
                Assert.Equal("forbidden", reply.GetProperty("code").GetString());
            }

            // What was allowed became A's events, with the source "socket"; what was refused stored nothing.
            var history = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{a.Id}/events");
            var types = history.GetProperty("events").EnumerateArray().Select(e => (e.GetProperty("type").GetString(), e.GetProperty("source").GetString())).ToList();
            Assert.Equal(restricted ? [("chat.room1", "socket")] : [("chat.room1", "socket"), ("admin.audit", "socket")], types);
        }
        else
        {
            var history = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{a.Id}/events");
            Assert.Equal(0, history.GetProperty("events").GetArrayLength());
        }

        // Nothing of A's reached B: a ping's pong is the next frame B gets.
        await socketOfB.SendAsync(new { op = "ping", @ref = "end" });
        Assert.Equal(("pong", "end"), await socketOfB.ReceiveOpRefAsync());
    }

    [Fact]
    public async Task An_api_key_without_the_subscribe_scope_is_refused_with_403()
    {
        var a = await SessionCustomer.CreateAsync(fixture.Http);
        var (status, _) = await SessionAsserts.HandshakeAsync(fixture.BaseAddress, a.Id, await a.ApiKeyAsync("publish"), inQuery: false);
        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task A_deleted_signing_key_opens_no_more_sockets()
    {
        var a = await SessionCustomer.CreateAsync(fixture.Http);
        var token = await a.TokenAsync("alice");
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await SessionAsserts.HandshakeAsync(fixture.BaseAddress, a.Id, token, inQuery: true)).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Http.DeleteAsync($"/v1/admin/customers/{a.Id}/signing-keys/{a.KeyId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SessionAsserts.HandshakeAsync(fixture.BaseAddress, a.Id, token, inQuery: true)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.DeleteAsync($"/v1/admin/customers/{a.Id}/signing-keys/{a.KeyId}")).StatusCode);
    }

    [Fact]
    public async Task Two_chat_sockets_receive_each_others_messages_in_the_same_seq_order_with_their_refs_echoed()
    {
        var a = await SessionCustomer.CreateAsync(fixture.Http);
        await using var alice = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: await a.TokenAsync("alice", pubTopics: ["chat.*"]), inQuery: true);
        await using var bob = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: await a.TokenAsync("bob", pubTopics: ["chat.*"]), inQuery: true);
        Assert.Equal("alice", alice.Welcome.GetProperty("sub").GetString());
        Assert.False(string.IsNullOrEmpty(alice.Welcome.GetProperty("epoch").GetString()));
        await alice.SubscribeAsync(["chat.*"]);
        await bob.SubscribeAsync(["chat.*"]);

        await alice.PublishAsync("chat.room1", new { from = "alice" }, @ref: "a1", id: "m1");
        await bob.PublishAsync("chat.room1", new { from = "bob" }, @ref: "b1");

        async Task<(List<long> Seqs, JsonElement Published)> ReadAsync(FabricSocket socket)
        {
            var seqs = new List<long>();
            JsonElement? published = null;
            while (seqs.Count < 2 || published is null)
            {
                var frame = await socket.ReceiveAsync();
                switch (frame.GetProperty("op").GetString())
                {
                    case "event":
                        Assert.Equal("socket", frame.GetProperty("source").GetString());
                        seqs.Add(frame.Seq());
                        break;
                    case "published":
                        published = frame;
                        break;
                }
            }

            return (seqs, published.Value);
        }

        var (aliceSeqs, alicePublished) = await ReadAsync(alice);
        var (bobSeqs, bobPublished) = await ReadAsync(bob);
        Assert.Equal([1, 2], aliceSeqs);
        Assert.Equal(aliceSeqs, bobSeqs);
        Assert.Equal(("a1", false), (alicePublished.GetProperty("ref").GetString(), alicePublished.GetProperty("duplicate").GetBoolean()));
        Assert.Equal("b1", bobPublished.GetProperty("ref").GetString());

        // The same id again is the same event: the client may retry a publish whose answer it never saw.
        await alice.PublishAsync("chat.room1", new { from = "alice" }, @ref: "a2", id: "m1");
        var again = await alice.ReceiveOpAsync("published");
        Assert.Equal((true, alicePublished.GetProperty("seq").GetInt64()), (again.GetProperty("duplicate").GetBoolean(), again.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task Presence_lists_members_once_per_sub_and_watchers_see_joins_and_leaves()
    {
        var a = await SessionCustomer.CreateAsync(fixture.Http);
        await using var alice = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: await a.TokenAsync("alice", info: new { name = "Alice" }), inQuery: true);
        await alice.SendAsync(new { op = "subscribe", topics = new[] { "chat.room1" }, presence = true });
        await alice.ReceiveOpAsync("subscribed");
        Assert.Equal("alice", (await alice.ReceiveOpAsync("join")).GetProperty("member").GetProperty("sub").GetString());

        var bobToken = await a.TokenAsync("bob", info: new { name = "Bob" });
        var bob1 = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: bobToken, inQuery: true);
        await using var bob2 = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: bobToken, inQuery: true);
        await bob1.SubscribeAsync(["chat.*"]);
        var join = await alice.ReceiveOpAsync("join");
        Assert.Equal(("chat.room1", "bob", "Bob"), (join.GetProperty("topic").GetString(), join.GetProperty("member").GetProperty("sub").GetString(),
            join.GetProperty("member").GetProperty("info").GetProperty("name").GetString()));
        await bob2.SubscribeAsync(["chat.room1"]);   // a second tab: no second join

        await alice.SendAsync(new { op = "presence", topic = "chat.room1", @ref = "q" });
        var presence = await alice.ReceiveOpAsync("presence");
        Assert.Equal("q", presence.GetProperty("ref").GetString());
        Assert.Equal(["alice", "bob"], presence.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("sub").GetString()).Order());

        await bob1.DisposeAsync();                   // one tab of two closes: bob stays
        await bob2.SendAsync(new { op = "unsubscribe", topics = new[] { "chat.room1" } });
        var leave = await alice.ReceiveOpAsync("leave");
        Assert.Equal("bob", leave.GetProperty("member").GetProperty("sub").GetString());
        // And only one leave: the pong of a ping sent now is the next frame.
        await alice.SendAsync(new { op = "ping", @ref = "end" });
        Assert.Equal(("pong", "end"), await alice.ReceiveOpRefAsync());
    }

    [Fact]
    public async Task The_admin_api_lists_sessions_and_disconnects_one_with_4003()
    {
        var a = await SessionCustomer.CreateAsync(fixture.Http);
        await using var alice = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: await a.TokenAsync("alice"), inQuery: true);
        await using var service = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: await a.ApiKeyAsync("subscribe"));
        await alice.SubscribeAsync(["chat.*"]);

        var list = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{a.Id}/sessions");
        var sessions = list.GetProperty("sessions").EnumerateArray().ToList();
        Assert.Equal(2, sessions.Count);
        var aliceSession = sessions.Single(s => s.GetProperty("sub").GetString() == "alice");
        Assert.Equal(alice.Welcome.GetProperty("session").GetString(), aliceSession.GetProperty("session").GetString());
        Assert.Equal(["chat.*"], aliceSession.GetProperty("topics").EnumerateArray().Select(t => t.GetString()));
        Assert.False(string.IsNullOrEmpty(aliceSession.GetProperty("gateway").GetString()));

        var session = aliceSession.GetProperty("session").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Http.DeleteAsync($"/v1/admin/customers/{a.Id}/sessions/{session}")).StatusCode);
        Assert.Equal((WebSocketCloseStatus)4003, await alice.WaitForCloseAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.DeleteAsync($"/v1/admin/customers/{a.Id}/sessions/{session}")).StatusCode);
        await Eventually.True(async () =>
            (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{a.Id}/sessions")).GetProperty("sessions").GetArrayLength() == 1);
    }

    [Fact]
    public async Task A_refreshed_token_keeps_the_socket_and_a_refresh_for_another_sub_is_refused()
    {
        var a = await SessionCustomer.CreateAsync(fixture.Http);
        await using var socket = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: await a.TokenAsync("alice", lifetime: TimeSpan.FromMinutes(1)), inQuery: true);

        await socket.SendAsync(new { op = "refresh", token = await a.TokenAsync("mallory"), @ref = "r1" });
        var refused = await socket.ReceiveAsync();
        Assert.Equal(("error", "invalid_token", "r1"), (refused.GetProperty("op").GetString(), refused.GetProperty("code").GetString(), refused.GetProperty("ref").GetString()));

        await socket.SendAsync(new { op = "refresh", token = await a.TokenAsync("alice", lifetime: TimeSpan.FromHours(2)), @ref = "r2" });
        var refreshed = await socket.ReceiveAsync();
        Assert.Equal(("refreshed", "r2"), (refreshed.GetProperty("op").GetString(), refreshed.GetProperty("ref").GetString()));
        Assert.True(refreshed.GetProperty("expires").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(1));
    }

    [Fact]
    public async Task Every_reply_echoes_its_ref()
    {
        var a = await SessionCustomer.CreateAsync(fixture.Http);
        await using var socket = await FabricSocket.ConnectAsync(fixture.BaseAddress, a.Id, credential: await a.TokenAsync("alice"), inQuery: true);
        await socket.SendAsync(new { op = "ping", @ref = "1" });
        await socket.SendAsync(new { op = "subscribe", topics = new[] { "x" }, @ref = "2" });
        await socket.SendAsync(new { op = "unsubscribe", topics = new[] { "x" }, @ref = "3" });
        await socket.SendAsync(new { op = "nope", @ref = "4" });
        var replies = new List<(string?, string?)>();
        for (var i = 0; i < 4; i++)
        {
            var frame = await socket.ReceiveAsync();
            replies.Add((frame.GetProperty("op").GetString(), frame.GetProperty("ref").GetString()));
        }

        Assert.Equal([("pong", "1"), ("subscribed", "2"), ("unsubscribed", "3"), ("error", "4")], replies);
    }

    private static string Tamper(string token)
    {
        // Flip one character of the payload: the signature no longer matches.
        var parts = token.Split('.');
        var payload = parts[1].ToCharArray();
        payload[5] = payload[5] == 'A' ? 'B' : 'A';
        return $"{parts[0]}.{new string(payload)}.{parts[2]}";
    }
}
