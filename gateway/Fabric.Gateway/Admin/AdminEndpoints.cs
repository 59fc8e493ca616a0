using Fabric.Contracts;
using Fabric.Contracts.Registry;
using Fabric.Gateway.Auth;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;
using Fabric.Gateway.Webhooks.Verification;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Fabric.Gateway.Admin;

/// <summary>
/// <c>/v1/admin</c>: customers, their webhook sources, API keys, token signing keys and socket sessions. Admin keys only; every answer is JSON or
/// problem+json, and no secret or key is ever returned except a new key, once.
/// </summary>
internal static class AdminEndpoints
{

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapAdminGroup("/v1/admin", "Admin");
        group.AddEndpointFilter(ForgetCachedCustomer);
        group.MapGet("/customers", ListAsync);
        group.MapPut("/customers/{customer}", PutCustomerAsync);
        group.MapGet("/customers/{customer}", GetCustomerAsync);
        group.MapPut("/customers/{customer}/sources/{source}", PutSourceAsync);
        group.MapDelete("/customers/{customer}/sources/{source}", DeleteSourceAsync);
        group.MapPost("/customers/{customer}/keys", CreateKeyAsync);
        group.MapDelete("/customers/{customer}/keys/{id}", DeleteKeyAsync);
        group.MapPost("/customers/{customer}/signing-keys", CreateSigningKeyAsync);
        group.MapDelete("/customers/{customer}/signing-keys/{id}", DeleteSigningKeyAsync);
        group.MapGet("/customers/{customer}/sessions", ListSessionsAsync);
        group.MapDelete("/customers/{customer}/sessions/{session}", DisconnectSessionAsync);
        return group;
    }

    /// <summary>
    /// After any change, this gateway drops its cached copy at once, so its own next request sees the change (other
    /// gateways see it at their next change-feed poll).
    /// </summary>
    private static async ValueTask<object?> ForgetCachedCustomer(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        finally
        {
            // Also when the change failed half way (saved, not announced): this gateway must not keep the old copy.
            var http = context.HttpContext;
            if (!HttpMethods.IsGet(http.Request.Method) && http.GetRouteValue("customer") is string customer)
            {
                http.RequestServices.GetRequiredService<CustomerDirectory>().Invalidate(customer);
            }
        }
    }

    private static async Task<Results<Ok<CustomerList>, ProblemHttpResult>> ListAsync(string? after, int? limit, IGrainFactory grains)
    {
        if (!Paging.IsValid(limit) || (after is not null && !InputRules.IsValidId(after)))
        {
            return Problems.BadRequest("invalid-range", $"'after' must be a customer id and 'limit' between 1 and {Paging.MaxLimit}.");
        }

        var take = Paging.Take(limit);
        var ids = await grains.GetGrain<ICustomerIndexGrain>(0).List(after, take);
        var configs = await Task.WhenAll(ids.Select(id => grains.GetGrain<ICustomerRegistryGrain>(id).GetConfig()));
        var customers = configs.OfType<CustomerConfig>().Select(c => new CustomerSummary(c.Id, c.Name, c.Created)).ToList();
        return TypedResults.Ok(new CustomerList(customers, ids.Count == take ? ids[^1] : null));
    }

    private static async Task<IResult> PutCustomerAsync(string customer, HttpRequest request, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonRequest.ReadAsync(request, AdminJsonContext.Default.CustomerPutRequest, optional: true, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (body?.Name is { Length: > 200 })
        {
            return Problems.BadRequest("invalid-name", "\"name\" must be at most 200 characters.");
        }

        var result = await grains.GetGrain<ICustomerRegistryGrain>(customer).Put(body?.Name);
        var view = View(result.Config!);
        return result.Outcome == RegistryOutcome.Created
            ? TypedResults.Created($"/v1/admin/customers/{customer}", view)
            : TypedResults.Ok(view);
    }

    private static async Task<Results<Ok<CustomerView>, ProblemHttpResult>> GetCustomerAsync(string customer, IGrainFactory grains) =>
        await grains.GetGrain<ICustomerRegistryGrain>(customer).GetConfig() is { } config ? TypedResults.Ok(View(config)) : Problems.UnknownCustomer();

    private static async Task<IResult> PutSourceAsync(
        string customer, string source, HttpRequest request, IGrainFactory grains, SecretProtector protector, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!InputRules.IsValidId(source))
        {
            return Problems.InvalidSource();
        }

        if (SourceRules.IsReserved(source))
        {
            return Problems.ReservedSourceName(SourceRules.ReservedNames);
        }

        var (body, problem) = await JsonRequest.ReadAsync(request, AdminJsonContext.Default.SourcePutRequest, optional: false, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (SourceRules.Check(body!) is { } invalid)
        {
            return invalid;
        }

        var secrets = (body!.Secrets ?? []).Select(protector.Protect).ToList();
        var config = new SourceConfig(source, body.Scheme!, secrets, body.ToleranceSeconds, body.Header, body.Algorithm, body.Encoding, body.Prefix, time.GetUtcNow());
        var result = await grains.GetGrain<ICustomerRegistryGrain>(customer).PutSource(config);
        return result.Outcome switch
        {
            RegistryOutcome.UnknownCustomer => Problems.UnknownCustomer(),
            RegistryOutcome.Created => TypedResults.Created($"/v1/admin/customers/{customer}/sources/{source}", SourceView(result.Config!.Sources[source])),
            _ => TypedResults.Ok(SourceView(result.Config!.Sources[source])),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteSourceAsync(string customer, string source, IGrainFactory grains)
    {
        if (!InputRules.IsValidId(source))
        {
            return Problems.InvalidSource();
        }

        return (await grains.GetGrain<ICustomerRegistryGrain>(customer).RemoveSource(source)).Outcome switch
        {
            RegistryOutcome.UnknownCustomer => Problems.UnknownCustomer(),
            RegistryOutcome.NotFound => Problems.NotFound("unknown-source", "No source of that name is configured for that customer."),
            _ => TypedResults.NoContent(),
        };
    }

    private static async Task<IResult> CreateKeyAsync(string customer, HttpRequest request, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonRequest.ReadAsync(request, AdminJsonContext.Default.KeyCreateRequest, optional: false, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var scopes = body!.Scopes;
        if (scopes is not { Count: > 0 } || scopes.Any(s => !ApiKeys.Scopes.Contains(s)))
        {
            return Problems.BadRequest("invalid-scopes", "\"scopes\" must list one or more of: " + string.Join(", ", ApiKeys.Scopes) + ".");
        }

        var (id, key, hash) = ApiKeys.Create(customer);
        var distinct = scopes.Distinct(StringComparer.Ordinal).ToList();
        var result = await grains.GetGrain<ICustomerRegistryGrain>(customer).AddKey(new ApiKeyRecord(id, distinct, hash, time.GetUtcNow()));
        return result.Outcome == RegistryOutcome.UnknownCustomer
            ? Problems.UnknownCustomer()
            : TypedResults.Created($"/v1/admin/customers/{customer}/keys/{id}", new KeyCreated(id, key, distinct));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteKeyAsync(string customer, string id, IGrainFactory grains) =>
        (await grains.GetGrain<ICustomerRegistryGrain>(customer).RemoveKey(id)).Outcome switch
        {
            RegistryOutcome.UnknownCustomer => Problems.UnknownCustomer(),
            RegistryOutcome.NotFound => Problems.NotFound("unknown-key", "No key of that id exists for that customer."),
            _ => TypedResults.NoContent(),
        };

    /// <summary>
    /// A key that signs connection tokens (HS256, <c>kid</c> = its id). The secret is shown once, here; it is kept
    /// encrypted with Data Protection, since every gateway must read it back to check signatures.
    /// </summary>
    private static async Task<IResult> CreateSigningKeyAsync(string customer, IGrainFactory grains, SecretProtector protector, TimeProvider time)
    {
        var (id, secret) = SigningKeys.Create();
        var created = time.GetUtcNow();
        var result = await grains.GetGrain<ICustomerRegistryGrain>(customer).AddSigningKey(new SigningKeyRecord(id, protector.Protect(secret), created));
        return result.Outcome == RegistryOutcome.UnknownCustomer
            ? Problems.UnknownCustomer()
            : TypedResults.Created($"/v1/admin/customers/{customer}/signing-keys/{id}", new SigningKeyCreated(id, secret, created));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteSigningKeyAsync(string customer, string id, IGrainFactory grains) =>
        (await grains.GetGrain<ICustomerRegistryGrain>(customer).RemoveSigningKey(id)).Outcome switch
        {
            RegistryOutcome.UnknownCustomer => Problems.UnknownCustomer(),
            RegistryOutcome.NotFound => Problems.NotFound("unknown-signing-key", "No signing key of that id exists for that customer."),
            _ => TypedResults.NoContent(),
        };

    /// <summary>Every socket session of the customer, on every gateway, as its grain holds them.</summary>
    private static async Task<Results<Ok<SessionList>, ProblemHttpResult>> ListSessionsAsync(string customer, IGrainFactory grains, CustomerDirectory directory)
    {
        if (await directory.GetAsync(customer) is null)
        {
            return Problems.UnknownCustomer();
        }

        var sessions = await grains.GetGrain<ICustomerGrain>(customer).GetSessions();
        return TypedResults.Ok(new SessionList([.. sessions.Select(s => new SessionView(s.Session, s.Sub, s.Gateway, s.ConnectedAt, s.Topics))]));
    }

    /// <summary>Closes a session on whichever gateway holds it, with 4003 "disconnected by the operator".</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> DisconnectSessionAsync(string customer, string session, IGrainFactory grains, CustomerDirectory directory)
    {
        if (await directory.GetAsync(customer) is null)
        {
            return Problems.UnknownCustomer();
        }

        return InputRules.IsValidId(session) && await grains.GetGrain<ICustomerGrain>(customer).Kick(session)
            ? TypedResults.NoContent()
            : Problems.NotFound("unknown-session", "No session of that id is connected for that customer.");
    }

    internal static CustomerView View(CustomerConfig config) => new(
        config.Id,
        config.Name,
        config.Created,
        config.Version,
        [.. config.Sources.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(SourceView)],
        [.. config.Keys.Values.OrderBy(k => k.Created).Select(k => new KeyView(k.Id, k.Scopes, k.Created))],
        [.. (config.SigningKeys?.Values ?? []).OrderBy(k => k.Created).Select(k => new SigningKeyView(k.Id, k.Created))]);

    private static SourceView SourceView(SourceConfig s) =>
        new(s.Name, s.Scheme, s.ProtectedSecrets.Count, s.ToleranceSeconds, s.Header, s.Algorithm, s.Encoding, s.Prefix, s.Updated);
}
