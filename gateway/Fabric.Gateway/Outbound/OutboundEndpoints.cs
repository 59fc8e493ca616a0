using Fabric.Contracts.Endpoints;
using Fabric.Gateway.Auth;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;
using Fabric.Rules.Outbound;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Outbound;

/// <summary>
/// <c>/v1/admin/customers/{customer}/endpoints</c>: a customer's outbound webhook endpoints, their attempt log, retries
/// and recoveries (docs/outbound.md). Admin keys only; a secret is shown once, when it is made.
/// </summary>
internal static class OutboundEndpoints
{
    /// <summary>The egress policy an endpoint's URL is checked against, and the options of <c>Fabric:Outbound</c> it reads.</summary>
    public static WebApplicationBuilder AddFabricOutboundAdmin(this WebApplicationBuilder builder)
    {
        builder.Services.AddFabricOutboundPolicy(builder.Configuration);
        return builder;
    }

    public static RouteGroupBuilder MapOutboundAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapAdminGroup("/v1/admin/customers/{customer}/endpoints", "Outbound");
        group.AddEndpointFilter(KnownCustomer);
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPatch("/{id}", UpdateAsync);
        group.MapDelete("/{id}", DeleteAsync);
        group.MapPost("/{id}/secret/rotate", RotateAsync);
        group.MapGet("/{id}/messages", MessagesAsync);
        group.MapPost("/{id}/messages/{eventId}/retry", RetryAsync);
        group.MapPost("/{id}/recover", RecoverAsync);
        group.MapGet("/{id}/recover", RecoveryAsync);
        return group;
    }

    /// <summary>An unregistered customer has no endpoints: 404 before any grain is touched.</summary>
    private static async ValueTask<object?> KnownCustomer(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.GetRouteValue("customer") is string customer && await http.RequestServices.GetRequiredService<CustomerDirectory>().GetAsync(customer) is null)
        {
            return Problems.UnknownCustomer();
        }

        if (http.GetRouteValue("id") is string id && !IsEndpointId(id))
        {
            return UnknownEndpoint();
        }

        return await next(context);
    }

    private static async Task<IResult> CreateAsync(
        string customer, HttpRequest request, IGrainFactory grains, EgressPolicy egress, IDataProtectionProvider protection, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonRequest.ReadAsync(request, OutboundJsonContext.Default.EndpointRequest, optional: false, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (await EndpointRules.CheckAsync(body!, creating: true, egress, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        var id = "ep_" + Guid.NewGuid().ToString("N")[..20];
        var secret = EndpointSecrets.New();
        var view = await grains.GetGrain<IEndpointGrain>(EndpointKey.Of(customer, id))
            .Create(Settings(body!), Protector(protection).Protect(secret), body!.FromSeq);
        return TypedResults.Created($"/v1/admin/customers/{customer}/endpoints/{id}", Response(view) with { Secret = secret });
    }

    private static async Task<Ok<EndpointList>> ListAsync(string customer, IGrainFactory grains)
    {
        var ids = await grains.GetGrain<Contracts.ICustomerGrain>(customer).GetEndpoints();
        var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<IEndpointGrain>(EndpointKey.Of(customer, id)).GetView()));
        return TypedResults.Ok(new EndpointList([.. views.OfType<EndpointView>().OrderBy(v => v.Created).Select(Response)]));
    }

    private static async Task<Results<Ok<EndpointResponse>, ProblemHttpResult>> GetAsync(string customer, string id, IGrainFactory grains) =>
        await Endpoint(grains, customer, id).GetView() is { } view ? TypedResults.Ok(Response(view)) : UnknownEndpoint();

    private static async Task<IResult> UpdateAsync(string customer, string id, HttpRequest request, IGrainFactory grains, EgressPolicy egress, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonRequest.ReadAsync(request, OutboundJsonContext.Default.EndpointRequest, optional: false, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (await EndpointRules.CheckAsync(body!, creating: false, egress, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        return await Endpoint(grains, customer, id).Update(Settings(body!)) is { } view ? TypedResults.Ok(Response(view)) : UnknownEndpoint();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string customer, string id, IGrainFactory grains) =>
        await Endpoint(grains, customer, id).Delete() ? TypedResults.NoContent() : UnknownEndpoint();

    /// <summary>A new secret; the old ones keep signing beside it for the overlap (default <see cref="OutboundOptions.SecretOverlap"/>).</summary>
    private static async Task<IResult> RotateAsync(
        string customer, string id, HttpRequest request, IGrainFactory grains, IDataProtectionProvider protection, IOptions<OutboundOptions> options, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonRequest.ReadAsync(request, OutboundJsonContext.Default.RotateRequest, optional: true, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var overlap = body?.Overlap ?? options.Value.SecretOverlap;
        if (overlap < TimeSpan.Zero || overlap > TimeSpan.FromDays(30))
        {
            return Problems.BadRequest("invalid-overlap", "\"overlap\" must be between 00:00:00 and 30.00:00:00.");
        }

        var secret = EndpointSecrets.New();
        return await Endpoint(grains, customer, id).RotateSecret(Protector(protection).Protect(secret), overlap) is { } view
            ? TypedResults.Ok(Response(view) with { Secret = secret })
            : UnknownEndpoint();
    }

    private static async Task<Results<Ok<MessageList>, ProblemHttpResult>> MessagesAsync(string customer, string id, string? status, int? limit, IGrainFactory grains)
    {
        MessageStatus? parsed = status switch
        {
            "pending" => MessageStatus.Pending,
            "delivered" => MessageStatus.Delivered,
            "failed" or null => MessageStatus.Failed,
            _ => null,
        };
        if (parsed is null || !Paging.IsValid(limit))
        {
            return Problems.BadRequest("invalid-query", $"'status' must be failed, pending or delivered and 'limit' between 1 and {Paging.MaxLimit}.");
        }

        return await Endpoint(grains, customer, id).GetMessages(parsed.Value, Paging.Take(limit)) is { } messages
            ? TypedResults.Ok(new MessageList([.. messages.Select(Response)]))
            : UnknownEndpoint();
    }

    private static async Task<Results<Accepted<RetryResponse>, ProblemHttpResult>> RetryAsync(string customer, string id, string eventId, IGrainFactory grains) =>
        await Endpoint(grains, customer, id).Retry(eventId) switch
        {
            RetryOutcome.Queued => TypedResults.Accepted((string?)null, new RetryResponse(eventId, "pending")),
            RetryOutcome.UnknownEndpoint => UnknownEndpoint(),
            RetryOutcome.Expired => Problems.Conflict("event-expired", "The customer's log no longer holds that event; it cannot be sent again."),
            _ => Problems.NotFound("unknown-message", "That endpoint has no delivered or failed message of that event id."),
        };

    private static async Task<IResult> RecoverAsync(string customer, string id, HttpRequest request, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonRequest.ReadAsync(request, OutboundJsonContext.Default.RecoverRequest, optional: false, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.Since is not { } since)
        {
            return Problems.BadRequest("invalid-since", "\"since\" is required: an RFC 3339 time.");
        }

        return await Endpoint(grains, customer, id).Recover(since) is { } progress
            ? TypedResults.Accepted($"/v1/admin/customers/{customer}/endpoints/{id}/recover", Response(progress))
            : UnknownEndpoint();
    }

    private static async Task<Results<Ok<RecoveryResponse>, ProblemHttpResult>> RecoveryAsync(string customer, string id, IGrainFactory grains)
    {
        var endpoint = Endpoint(grains, customer, id);
        if (await endpoint.GetRecovery() is { } progress)
        {
            return TypedResults.Ok(Response(progress));
        }

        return await endpoint.GetView() is null ? UnknownEndpoint() : Problems.NotFound("no-recovery", "No recovery has run for that endpoint.");
    }

    private static IEndpointGrain Endpoint(IGrainFactory grains, string customer, string id) => grains.GetGrain<IEndpointGrain>(EndpointKey.Of(customer, id));

    internal static bool IsEndpointId(string id) => id is { Length: 23 } && id.StartsWith("ep_", StringComparison.Ordinal) && !id.AsSpan(3).ContainsAnyExcept(Hex);

    private static readonly System.Buffers.SearchValues<char> Hex = System.Buffers.SearchValues.Create("0123456789abcdef");

    internal static ProblemHttpResult UnknownEndpoint() => Problems.NotFound("unknown-endpoint", "No endpoint of that id exists for that customer.");

    private static IDataProtector Protector(IDataProtectionProvider protection) => protection.CreateProtector(EndpointSecrets.ProtectionPurpose);

    private static EndpointSettings Settings(EndpointRequest b) => new(
        b.Url, b.Topics, b.Description, b.Enabled, b.Ordered, b.RateLimitPerSecond is 0 ? null : b.RateLimitPerSecond, b.MaxConcurrency, b.Headers, b.RetrySchedule, b.Timeout,
        ClearRateLimit: b.RateLimitPerSecond == 0);

    private static EndpointResponse Response(EndpointView v) => new(
        // Header values are write-only (they often carry a credential): names are shown, values never.
        v.Id, v.Url, v.Topics, v.Description, v.Enabled, v.Ordered, v.RateLimitPerSecond, v.MaxConcurrency, v.Headers.ToDictionary(h => h.Key, _ => "(set)"), v.RetrySchedule, v.Timeout,
        v.Created, v.Updated, v.DisabledReason, v.FailingSince, v.Cursor, v.Pending, v.Secrets, PreviousSecretUntil: v.PreviousSecretUntil);

    private static MessageResponse Response(MessageView m) => new(
        m.EventId, m.Seq, m.Status.ToString().ToLowerInvariant(), [.. m.Attempts.Select(a => new AttemptResponse(a.Time, Math.Round(a.DurationMs, 3), a.ResponseStatus, a.Response, a.Error))],
        m.NextAttempt, m.Reason, m.LastSeq);

    private static RecoveryResponse Response(RecoveryView r) =>
        new(r.Finished is null ? "running" : "done", r.Since, r.Started, r.Total, r.Done, r.Delivered, r.Failed, r.Finished);
}
