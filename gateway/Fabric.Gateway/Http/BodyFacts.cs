namespace Fabric.Gateway.Http;

/// <summary>
/// The few top-level fields of a webhook body that providers put their event type and delivery id in, read in the
/// same pass that validates the JSON. Only string values count.
/// </summary>
/// <param name="Type">Top-level <c>type</c> (Stripe, Standard Webhooks, Slack's envelope).</param>
/// <param name="Id">Top-level <c>id</c> (Stripe's event id).</param>
/// <param name="Action">Top-level <c>action</c> (GitHub: <c>opened</c>).</param>
/// <param name="EventId">Top-level <c>event_id</c> (Slack Events API).</param>
/// <param name="InnerEventType"><c>event.type</c> (Slack Events API).</param>
/// <param name="Challenge">Top-level <c>challenge</c> (Slack's <c>url_verification</c>).</param>
internal readonly record struct BodyFacts(string? Type, string? Id, string? Action, string? EventId, string? InnerEventType, string? Challenge);
