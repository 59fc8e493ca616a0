using System.Text;
using Fabric.Contracts;

namespace Fabric.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class CustomerGrainTests(ClusterFixture fixture)
{
    private ICustomerGrain Grain(string customer) => fixture.Client.GetGrain<ICustomerGrain>(customer);

    [Fact]
    public async Task Seq_starts_at_one_and_increases_by_one_per_event()
    {
        var grain = Grain(Events.NewCustomer());
        var seqs = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            seqs.Add((await grain.Append(Events.Make())).Seq);
        }

        Assert.Equal([1, 2, 3, 4, 5], seqs);
    }

    [Fact]
    public async Task Events_of_different_customers_are_numbered_independently()
    {
        var a = await Grain(Events.NewCustomer()).Append(Events.Make());
        var b = await Grain(Events.NewCustomer()).Append(Events.Make());
        Assert.Equal(1, a.Seq);
        Assert.Equal(1, b.Seq);
        Assert.NotEqual(a.Id, b.Id);
    }

    [Fact]
    public async Task Repeated_idempotency_key_returns_the_first_event_and_stores_nothing_new()
    {
        var grain = Grain(Events.NewCustomer());
        var first = await grain.Append(Events.Make(key: "k-1"));
        var again = await grain.Append(Events.Make(key: "k-1", json: "{\"n\":2}"));

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal((first.Id, first.Seq), (again.Id, again.Seq));
        var page = await grain.GetSince(0, 100);
        Assert.Single(page.Events);
        Assert.Equal("{\"n\":1}", Encoding.UTF8.GetString(page.Events[0].Data));
    }

    [Fact]
    public async Task The_same_key_from_another_source_is_a_different_event()
    {
        var grain = Grain(Events.NewCustomer());
        var github = await grain.Append(Events.Make(key: "shared", source: "github"));
        var stripe = await grain.Append(Events.Make(key: "shared", source: "stripe"));
        Assert.False(stripe.Duplicate);
        Assert.NotEqual(github.Seq, stripe.Seq);
    }

    [Fact]
    public async Task Idempotency_window_forgets_the_oldest_keys_beyond_its_count()
    {
        var grain = Grain(Events.NewCustomer());
        for (var i = 0; i <= ClusterFixture.IdempotencyMaxKeys; i++)
        {
            await grain.Append(Events.Make(key: $"k-{i}"));
        }

        Assert.False((await grain.Append(Events.Make(key: "k-0"))).Duplicate);
        Assert.True((await grain.Append(Events.Make(key: $"k-{ClusterFixture.IdempotencyMaxKeys}"))).Duplicate);
    }

    [Fact]
    public async Task GetSince_pages_through_history_in_seq_order()
    {
        var grain = Grain(Events.NewCustomer());
        for (var i = 0; i < 12; i++)
        {
            await grain.Append(Events.Make(type: $"t.{i}"));
        }

        var first = await grain.GetSince(0, 5);
        var second = await grain.GetSince(first.Events[^1].Seq, 5);
        var rest = await grain.GetSince(second.Events[^1].Seq, 100);

        Assert.Equal([1, 2, 3, 4, 5], first.Events.Select(e => e.Seq));
        Assert.Equal([6, 7, 8, 9, 10], second.Events.Select(e => e.Seq));
        Assert.Equal([11, 12], rest.Events.Select(e => e.Seq));
        Assert.All([first, second, rest], p => Assert.True(p.Complete));
        Assert.Equal(12, rest.LastSeq);
        Assert.Empty((await grain.GetSince(12, 10)).Events);
    }

    [Fact]
    public async Task Envelope_keeps_the_payload_byte_for_byte_with_its_metadata()
    {
        var customer = Events.NewCustomer();
        const string json = "{ \"spaced\" :  [1, 2.50, \"\\u00e9\"] }";
        var accepted = await Grain(customer).Append(Events.Make(type: "invoice.paid", key: "inv-1", source: "stripe", json: json));

        var e = Assert.Single((await Grain(customer).GetSince(0, 10)).Events);
        Assert.Equal(json, Encoding.UTF8.GetString(e.Data));
        Assert.Equal((accepted.Id, 1L, customer, "stripe", "invoice.paid", "inv-1", "application/json"),
            (e.Id, e.Seq, e.Customer, e.Source, e.Type, e.IdempotencyKey, e.ContentType));
        Assert.StartsWith("evt_", e.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retention_by_count_drops_the_oldest_and_reports_the_gap()
    {
        var grain = Grain(Events.NewCustomer());
        var total = ClusterFixture.RetentionMaxEvents + 10;
        for (var i = 0; i < total; i++)
        {
            await grain.Append(Events.Make());
        }

        // Retention runs beside the writes, not in the append's turn: it catches up just after the last one.
        await Eventually.True(async () => !(await grain.GetSince(0, 1)).Complete);
        var fromStart = await grain.GetSince(0, 1000);
        Assert.Equal(11, fromStart.FirstRetainedSeq);
        Assert.Equal(Enumerable.Range(11, ClusterFixture.RetentionMaxEvents).Select(i => (long)i), fromStart.Events.Select(e => e.Seq));

        var covered = await grain.GetSince(10, 1000);
        Assert.True(covered.Complete);
    }

    [Fact]
    public async Task Retention_by_age_drops_events_older_than_the_limit()
    {
        var grain = Grain(Events.NewCustomer());
        await grain.Append(Events.Make(type: "old"));
        fixture.Clock.Advance(ClusterFixture.RetentionMaxAge + TimeSpan.FromMinutes(1));
        await grain.Append(Events.Make(type: "new"));

        await Eventually.True(async () => !(await grain.GetSince(0, 1)).Complete);
        var page = await grain.GetSince(0, 100);
        Assert.Equal(["new"], page.Events.Select(e => e.Type));
        Assert.False(page.Complete);
        Assert.Equal(2, page.FirstRetainedSeq);
    }

    [Fact]
    public async Task Idempotency_key_older_than_the_window_is_accepted_as_new()
    {
        var grain = Grain(Events.NewCustomer());
        var first = await grain.Append(Events.Make(key: "late"));
        fixture.Clock.Advance(ClusterFixture.IdempotencyWindow + TimeSpan.FromMinutes(1));
        var again = await grain.Append(Events.Make(key: "late"));

        Assert.False(again.Duplicate);
        Assert.Equal(first.Seq + 1, again.Seq);
    }

    [Fact]
    public async Task Reactivated_grain_continues_its_seq_and_keeps_its_idempotency_window()
    {
        var customer = Events.NewCustomer();
        var grain = Grain(customer);
        var keyed = await grain.Append(Events.Make(key: "before"));
        await grain.Append(Events.Make());

        await fixture.Cluster.DeactivateAsync(grain);

        var next = await grain.Append(Events.Make());
        var repeat = await grain.Append(Events.Make(key: "before"));
        Assert.Equal(3, next.Seq);
        Assert.True(repeat.Duplicate);
        Assert.Equal(keyed.Seq, repeat.Seq);
    }

    [Fact]
    public async Task Concurrent_appends_get_consecutive_seqs_each_answered_with_its_own_event()
    {
        var grain = Grain(Events.NewCustomer());
        const int n = ClusterFixture.RetentionMaxEvents;
        var results = await Task.WhenAll(Enumerable.Range(0, n).Select(i => grain.Append(Events.Make(key: $"k{i}"))));

        Assert.Equal(Enumerable.Range(1, n).Select(i => (long)i), results.Select(r => r.Seq).Order());
        var page = await grain.GetSince(0, 1000);
        Assert.Equal(results.Select(r => r.Seq).Order(), page.Events.Select(e => e.Seq));
        Assert.All(results, r => Assert.Equal(r.Id, page.Events[(int)r.Seq - 1].Id));
    }

    [Fact]
    public async Task A_key_repeated_while_its_first_append_is_in_flight_gets_the_same_event()
    {
        var grain = Grain(Events.NewCustomer());
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => grain.Append(Events.Make(key: "same"))));

        Assert.Single(results, r => !r.Duplicate);
        Assert.All(results, r => Assert.Equal((results[0].Id, 1L), (r.Id, r.Seq)));
        Assert.Single((await grain.GetSince(0, 100)).Events);
    }

    [Fact]
    public async Task A_batch_takes_consecutive_seqs_in_order_and_answers_repeats_with_the_first_event()
    {
        var grain = Grain(Events.NewCustomer());
        var earlier = await grain.Append(Events.Make(key: "earlier"));

        var results = await grain.AppendBatch([
            Events.Make(key: "a"), Events.Make(key: "earlier"), Events.Make(), Events.Make(key: "a"), Events.Make(key: "b")]);

        Assert.Equal([2L, 1, 3, 2, 4], results.Select(r => r.Seq));
        Assert.Equal([false, true, false, true, false], results.Select(r => r.Duplicate));
        Assert.Equal(earlier.Id, results[1].Id);
        Assert.Equal(results[0].Id, results[3].Id);
        Assert.Equal([1L, 2, 3, 4], (await grain.GetSince(0, 100)).Events.Select(e => e.Seq));
    }

    [Fact]
    public async Task A_key_outlives_its_event_retention_and_a_reactivation_within_the_window()
    {
        var customer = Events.NewCustomer();
        var grain = Grain(customer);
        var first = await grain.Append(Events.Make(key: "stripe-retry"));
        // The keyed event leaves retention (pushed out by count); its key must not leave with it.
        for (var i = 0; i < ClusterFixture.RetentionMaxEvents; i++)
        {
            await grain.Append(Events.Make());
        }

        await Eventually.True(async () => !(await grain.GetSince(0, 1)).Complete);
        await fixture.Cluster.DeactivateAsync(grain);

        var retry = await grain.Append(Events.Make(key: "stripe-retry"));
        Assert.True(retry.Duplicate);
        Assert.Equal((first.Id, first.Seq), (retry.Id, retry.Seq));
    }

    [Fact]
    public async Task A_batch_larger_than_one_log_write_is_still_written_whole()
    {
        var sizes = new System.Collections.Concurrent.ConcurrentBag<int>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Fabric.Grains.GrainsTelemetry.Name && instrument.Name == "fabric.log.append_batch")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, size, _, _) => sizes.Add(size));
        listener.Start();

        // 600 > AppendBatchMax (512): split, a failed second write would leave half the request stored.
        var results = await Grain(Events.NewCustomer()).AppendBatch([.. Enumerable.Range(0, 600).Select(i => Events.Make(key: $"k{i}"))]);

        Assert.Equal(Enumerable.Range(1, 600).Select(i => (long)i), results.Select(r => r.Seq));
        Assert.Contains(600, sizes);
    }
}
