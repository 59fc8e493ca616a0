using System.Collections.Concurrent;
using Fabric.Contracts;

namespace Fabric.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class PushTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Registered_gateway_observer_receives_every_event_pushed_in_batches()
    {
        var customer = Events.NewCustomer();
        var grain = fixture.Client.GetGrain<ICustomerGrain>(customer);
        var observer = new RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IGatewayObserver>(observer);
        try
        {
            Assert.Equal(0, (await grain.Subscribe("gw-1", 1, reference, null)).LastSeq);
            await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => grain.Append(Events.Make())));

            await Eventually.True(() => observer.Seqs.Count >= 200);
            Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), observer.Seqs.Order());
            Assert.All(observer.Batches, b => Assert.Equal(customer, b.Customer));
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IGatewayObserver>(reference);
        }
    }

    [Fact]
    public async Task Unsubscribe_stops_pushes_but_a_stale_unsubscribe_cannot_undo_a_newer_subscribe()
    {
        var grain = fixture.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        var observer = new RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IGatewayObserver>(observer);
        try
        {
            await grain.Subscribe("gw-1", 5, reference, null);
            await grain.Unsubscribe("gw-1", 4);       // older than the subscribe: ignored
            await grain.Append(Events.Make());
            await Eventually.True(() => observer.Seqs.Count == 1);

            await grain.Unsubscribe("gw-1", 6);
            await grain.Subscribe("gw-1", 5, reference, null); // overtaken by the unsubscribe: ignored
            await grain.Append(Events.Make());
            // Nothing can signal that a push did not happen; a third append on a fresh subscription bounds the wait.
            await grain.Subscribe("gw-2", 1, reference, null);
            await grain.Append(Events.Make());
            await Eventually.True(() => observer.Seqs.Contains(3));
            Assert.DoesNotContain(2, observer.Seqs);
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IGatewayObserver>(reference);
        }
    }

    [Fact]
    public async Task A_reactivated_grain_pushes_to_the_gateways_registered_before_without_waiting_for_a_renewal()
    {
        var grain = fixture.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        var observer = new RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IGatewayObserver>(observer);
        try
        {
            await grain.Subscribe("gw-1", 1, reference, null);
            await grain.Append(Events.Make());
            await Eventually.True(() => observer.Seqs.Count == 1);

            // As after a silo loss: a new activation, and no Subscribe from the gateway since.
            await fixture.Cluster.DeactivateAsync(grain);
            await grain.Append(Events.Make());
            await Eventually.True(() => observer.Seqs.Contains(2));
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IGatewayObserver>(reference);
        }
    }

    [Fact]
    public async Task A_renewed_generation_outlives_reactivation_so_a_late_unsubscribe_cannot_remove_the_registration()
    {
        var grain = fixture.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        var observer = new RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IGatewayObserver>(observer);
        try
        {
            await grain.Subscribe("gw-1", 1, reference, null);
            await grain.Subscribe("gw-1", 5, reference, null);   // a renewal: the gateway's generation moved on
            await fixture.Cluster.DeactivateAsync(grain);

            await grain.Unsubscribe("gw-1", 3);                    // older than the renewal, delayed past the reactivation
            await grain.Append(Events.Make());
            await Eventually.True(() => observer.Seqs.Contains(1));
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IGatewayObserver>(reference);
        }
    }

    [Fact]
    public async Task A_gateway_that_received_more_than_the_log_holds_makes_the_log_fork_where_the_activation_began()
    {
        // The gateway released seq 5 of this epoch; the log (as after a Redis crash) holds 2. Seqs 3.. would be reused.
        var grain = fixture.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        await grain.Append(Events.Make());
        await grain.Append(Events.Make());
        var before = (await grain.GetSince(0, 0)).Epoch;
        await fixture.Cluster.DeactivateAsync(grain);
        var observer = new RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IGatewayObserver>(observer);
        try
        {
            var registration = await grain.Subscribe("gw-1", 1, reference, new LogPosition(before.Id, 5, "evt_gone"));

            Assert.NotEqual(before.Id, registration.Epoch.Id);
            Assert.Equal((2L, before.Id), (registration.Epoch.Base, registration.Epoch.Previous));
            Assert.Equal(registration.Epoch, (await grain.GetSince(0, 0)).Epoch);
            await grain.Append(Events.Make());
            await Eventually.True(() => observer.Seqs.Contains(3));
            Assert.All(observer.Batches, b => Assert.Equal(registration.Epoch.Id, b.Epoch.Id));
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IGatewayObserver>(reference);
        }
    }

    [Fact]
    public async Task A_witness_naming_another_event_at_a_seq_this_activation_wrote_forks_the_epoch_and_a_true_one_does_not()
    {
        var grain = fixture.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await grain.Append(Events.Make())).Id);
        }

        var epoch = (await grain.GetSince(0, 0)).Epoch;
        var observer = new RecordingObserver();
        var reference = fixture.Client.CreateObjectReference<IGatewayObserver>(observer);
        try
        {
            Assert.Equal(epoch, (await grain.Subscribe("gw-1", 1, reference, new LogPosition(epoch.Id, 2, ids[1]))).Epoch);
            var forked = (await grain.Subscribe("gw-1", 2, reference, new LogPosition(epoch.Id, 2, "evt_another"))).Epoch;
            Assert.NotEqual(epoch.Id, forked.Id);
            Assert.False(forked.Covers(epoch.Id, 1));   // this activation began at 0: none of its seqs can be vouched for
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IGatewayObserver>(reference);
        }
    }

    internal sealed class RecordingObserver : IGatewayObserver
    {
        public ConcurrentQueue<PresenceChange> Presence { get; } = new();

        public ConcurrentQueue<string> Kicks { get; } = new();

        public Task OnPresence(PresenceChange change)
        {
            Presence.Enqueue(change);
            return Task.CompletedTask;
        }

        public Task OnKick(string customer, string session)
        {
            Kicks.Enqueue(session);
            return Task.CompletedTask;
        }

        public ConcurrentQueue<EventBatch> Batches { get; } = new();

        public List<long> Seqs => [.. Batches.SelectMany(b => b.Events).Select(e => e.Seq)];

        public Task OnEvents(EventBatch batch)
        {
            Batches.Enqueue(batch);
            return Task.CompletedTask;
        }
    }
}
