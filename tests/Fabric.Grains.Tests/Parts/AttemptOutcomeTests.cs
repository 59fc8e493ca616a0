using Fabric.Contracts.Endpoints;
using Fabric.Outbound.Delivery;
using Fabric.Outbound.Endpoints;

namespace Fabric.Grains.Tests.Parts;

/// <summary>What an answer leads to, decided from the answer alone.</summary>
public sealed class AttemptOutcomeTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly TimeSpan DisableAfter = TimeSpan.FromDays(5);

    private static readonly EndpointRecord Config = new("ep", "https://example.test/", ["*"], null, true, false, null, 10, [],
        [TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5)], TimeSpan.FromSeconds(10), [], Now, Now, null);

    private static AttemptResult Answer(int? status, TimeSpan? retryAfter = null) =>
        new(new AttemptView(Now, 12, status, null, status is null ? "connection refused" : null), retryAfter);

    private static AttemptOutcome Of(AttemptResult result, int attempts = 1, bool manual = false, EndpointRecord? config = null, DateTimeOffset? failingSince = null, double random = 0.5) =>
        AttemptOutcome.Of(result, attempts, manual, config ?? Config, Now, failingSince ?? Now, DisableAfter, jitter: 0.2, random);

    [Fact]
    public void A_2xx_is_delivered() => Assert.IsType<AttemptOutcome.Delivered>(Of(Answer(204)));

    [Fact]
    public void A_failure_waits_the_schedules_step_with_its_share_of_jitter()
    {
        Assert.Equal(new AttemptOutcome.RetryAt(Now + TimeSpan.FromSeconds(5.5)), Of(Answer(500)));
        Assert.Equal(new AttemptOutcome.RetryAt(Now + TimeSpan.FromMinutes(5)), Of(Answer(null), attempts: 2, random: 0));
    }

    [Fact]
    public void A_retry_after_is_honoured_but_never_below_a_second()
    {
        Assert.Equal(new AttemptOutcome.RetryAt(Now + TimeSpan.FromSeconds(30)), Of(Answer(429, TimeSpan.FromSeconds(30))));
        Assert.Equal(new AttemptOutcome.RetryAt(Now + TimeSpan.FromSeconds(1)), Of(Answer(503, TimeSpan.Zero)));
    }

    [Fact]
    public void A_spent_schedule_or_a_manual_attempt_fails_for_good()
    {
        Assert.IsType<AttemptOutcome.Failed>(Of(Answer(500), attempts: 3));
        Assert.IsType<AttemptOutcome.Failed>(Of(Answer(500), manual: true));
    }

    [Fact]
    public void A_410_disables_the_endpoint_and_keeps_the_message_due()
    {
        Assert.Equal(new AttemptOutcome.Disable("the endpoint answered 410 Gone", new AttemptOutcome.RetryAt(Now)), Of(Answer(410)));
    }

    [Fact]
    public void Failing_for_the_whole_disable_period_disables_an_enabled_endpoint_only()
    {
        var since = Now - DisableAfter;
        var disable = Assert.IsType<AttemptOutcome.Disable>(Of(Answer(500), attempts: 3, failingSince: since));
        Assert.IsType<AttemptOutcome.Failed>(disable.Then);

        Assert.IsType<AttemptOutcome.Failed>(Of(Answer(500), attempts: 3, failingSince: since, config: Config with { Enabled = false }));
        Assert.IsType<AttemptOutcome.RetryAt>(Of(Answer(500), failingSince: since + TimeSpan.FromSeconds(1)));
    }
}
