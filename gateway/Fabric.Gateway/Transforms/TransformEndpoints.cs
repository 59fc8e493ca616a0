using System.Text.Json;
using Fabric.Contracts;
using Fabric.Contracts.Endpoints;
using Fabric.Contracts.Transforms;
using Fabric.Gateway.Auth;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Events;
using Fabric.Gateway.Http;
using Fabric.Gateway.Outbound;
using Fabric.Rules.Wasm;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Transforms;

/// <summary>
/// Attaching customers' Wasm modules (docs/wasm.md): <c>PUT</c>, <c>GET</c> and <c>DELETE</c> on
/// <c>/v1/admin/customers/{customer}/sources/{source}/transform</c> (ingest) and
/// <c>/v1/admin/customers/{customer}/endpoints/{id}/transform</c> (outbound). A module is sent as
/// <c>application/wasm</c> (with <c>?onError=</c> and <c>?keepOriginal=</c>) or as JSON
/// <c>{"module": base64, "config": {…}, "onError", "keepOriginal"}</c>. The grain that runs it checks, compiles and
/// starts it before it is attached; a refused module changes nothing.
/// </summary>
internal static class TransformEndpoints
{
    public const string WasmMediaType = "application/wasm";

    /// <summary>The ingest paths that are not webhook sources but take transforms too: the publish API and socket publishes.</summary>
    private static readonly string[] FabricSources = [BuiltInSources.Api, BuiltInSources.Socket];

    public static WebApplicationBuilder AddFabricTransforms(this WebApplicationBuilder builder)
    {
        // The gateway reads the module size limit to bound what it reads; the grains enforce every limit.
        builder.Services.AddOptions<WasmOptions>().BindConfiguration(WasmOptions.SectionName);
        return builder;
    }

    public static RouteGroupBuilder MapTransformsAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapAdminGroup("/v1/admin/customers/{customer}", "Transforms");
        group.MapPut("/sources/{source}/transform", PutSourceAsync);
        group.MapGet("/sources/{source}/transform", GetSourceAsync);
        group.MapDelete("/sources/{source}/transform", DeleteSourceAsync);
        group.MapPut("/endpoints/{id}/transform", PutEndpointAsync);
        group.MapGet("/endpoints/{id}/transform", GetEndpointAsync);
        group.MapDelete("/endpoints/{id}/transform", DeleteEndpointAsync);
        return group;
    }

    private static async Task<IResult> PutSourceAsync(
        string customer, string source, HttpRequest request, CustomerDirectory directory, CustomerGrains grains, IOptions<WasmOptions> options, CancellationToken cancellationToken)
    {
        if (await SourceProblemAsync(customer, source, directory) is { } unknown)
        {
            return unknown;
        }

        var (settings, problem) = await ReadAsync(request, options.Value, cancellationToken);
        return problem ?? Answer(await grains.Get(customer).SetTransform(source, settings!), "ingest");
    }

    private static async Task<IResult> GetSourceAsync(string customer, string source, CustomerDirectory directory, CustomerGrains grains) =>
        await SourceProblemAsync(customer, source, directory) ?? (await grains.Get(customer).GetTransform(source) is { } view ? TypedResults.Ok(Response(view, "ingest")) : NoTransform());

    private static async Task<IResult> DeleteSourceAsync(string customer, string source, CustomerDirectory directory, CustomerGrains grains) =>
        await SourceProblemAsync(customer, source, directory) ?? (await grains.Get(customer).RemoveTransform(source) ? TypedResults.NoContent() : NoTransform());

    private static async Task<IResult> PutEndpointAsync(
        string customer, string id, HttpRequest request, CustomerDirectory directory, IGrainFactory grains, IOptions<WasmOptions> options, CancellationToken cancellationToken)
    {
        if (await EndpointProblemAsync(customer, id, directory) is { } unknown)
        {
            return unknown;
        }

        var (settings, problem) = await ReadAsync(request, options.Value, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (settings!.KeepOriginal)
        {
            return Problems.BadRequest("invalid-keep-original", "keepOriginal is for ingest transforms: an endpoint's module shapes its body, the log keeps the event.");
        }

        return await Endpoint(grains, customer, id).SetTransform(settings) is { } answer ? Answer(answer, "outbound") : OutboundEndpoints.UnknownEndpoint();
    }

    private static async Task<IResult> GetEndpointAsync(string customer, string id, CustomerDirectory directory, IGrainFactory grains)
    {
        if (await EndpointProblemAsync(customer, id, directory) is { } unknown)
        {
            return unknown;
        }

        var endpoint = Endpoint(grains, customer, id);
        return await endpoint.GetTransform() is { } view ? TypedResults.Ok(Response(view, "outbound"))
            : await endpoint.GetView() is null ? OutboundEndpoints.UnknownEndpoint() : NoTransform();
    }

    private static async Task<IResult> DeleteEndpointAsync(string customer, string id, CustomerDirectory directory, IGrainFactory grains)
    {
        if (await EndpointProblemAsync(customer, id, directory) is { } unknown)
        {
            return unknown;
        }

        var endpoint = Endpoint(grains, customer, id);
        return await endpoint.RemoveTransform() ? TypedResults.NoContent()
            : await endpoint.GetView() is null ? OutboundEndpoints.UnknownEndpoint() : NoTransform();
    }

    private static IEndpointGrain Endpoint(IGrainFactory grains, string customer, string id) => grains.GetGrain<IEndpointGrain>(EndpointKey.Of(customer, id));

    /// <summary>A configured webhook source, or one of the built-in ingest paths (<c>api</c>, <c>socket</c>).</summary>
    private static async Task<IResult?> SourceProblemAsync(string customer, string source, CustomerDirectory directory)
    {
        if (!InputRules.IsValidId(source))
        {
            return Problems.InvalidSource();
        }

        if (await directory.GetAsync(customer) is not { } known)
        {
            return Problems.UnknownCustomer();
        }

        return known.Source(source) is not null || FabricSources.Contains(source, StringComparer.Ordinal) ? null : Problems.UnknownSource();
    }

    private static async Task<IResult?> EndpointProblemAsync(string customer, string id, CustomerDirectory directory)
    {
        if (await directory.GetAsync(customer) is null)
        {
            return Problems.UnknownCustomer();
        }

        return OutboundEndpoints.IsEndpointId(id) ? null : OutboundEndpoints.UnknownEndpoint();
    }

    /// <summary>The module and its settings from either form of the body, or the problem that says what is wrong with it.</summary>
    private static async Task<(TransformSettings? Settings, IResult? Problem)> ReadAsync(HttpRequest request, WasmOptions options, CancellationToken cancellationToken)
    {
        if (request.ContentType is { } type && type.StartsWith(WasmMediaType, StringComparison.OrdinalIgnoreCase))
        {
            var module = await BodyReader.ReadAsync(request, options.MaxModuleBytes, cancellationToken);
            if (module is null)
            {
                return (null, ModuleTooLarge(options));
            }

            var keepOriginal = request.Query["keepOriginal"].ToString();
            if (keepOriginal is { Length: > 0 } and not ("true" or "false"))
            {
                return (null, Problems.BadRequest("invalid-keep-original", "keepOriginal must be true or false."));
            }

            return (new TransformSettings(module, null, request.Query["onError"].FirstOrDefault(), keepOriginal == "true"), null);
        }

        if (!JsonBody.IsJsonMediaType(request.ContentType))
        {
            return (null, Problems.UnsupportedMediaType("Send the module as application/wasm, or as application/json {\"module\": base64, \"config\": {...}}."));
        }

        // Base64 of the largest module, the largest config and room for the rest.
        var limit = (((long)options.MaxModuleBytes + 2) / 3 * 4) + options.MaxConfigBytes + 4096;
        var (body, problem) = await JsonRequest.ReadAsync(request, TransformsJsonContext.Default.TransformRequest, optional: false, limit, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        if (body!.Module is not { Length: > 0 } encoded)
        {
            return (null, Problems.BadRequest("missing-module", "\"module\" is required: the .wasm bytes in base64."));
        }

        var bytes = new byte[(encoded.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(encoded, bytes, out var written))
        {
            return (null, Problems.BadRequest("invalid-module", "\"module\" is not valid base64."));
        }

        if (written > options.MaxModuleBytes)
        {
            return (null, ModuleTooLarge(options));
        }

        if (body.Config is { } config && config.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            return (null, Problems.BadRequest("invalid-config", "\"config\" must be a JSON object."));
        }

        var configText = body.Config is { ValueKind: JsonValueKind.Object } c ? c.GetRawText() : null;
        return (new TransformSettings(bytes[..written], configText, body.OnError, body.KeepOriginal ?? false), null);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult ModuleTooLarge(WasmOptions options) =>
        Problems.Problem(StatusCodes.Status413PayloadTooLarge, "module-too-large", "Module too large", $"The module is larger than the limit of {options.MaxModuleBytes} bytes (Fabric:Wasm:MaxModuleBytes).");

    private static IResult Answer(TransformAttach answer, string stage)
    {
        if (answer.View is { } view)
        {
            return TypedResults.Ok(Response(view, stage));
        }

        return answer.ProblemCode switch
        {
            "module-too-large" => Problems.Problem(StatusCodes.Status413PayloadTooLarge, answer.ProblemCode, "Module too large", answer.ProblemDetail!),
            _ when answer.Unprocessable => Problems.Unprocessable(answer.ProblemCode!, answer.ProblemDetail!),
            _ => Problems.BadRequest(answer.ProblemCode!, answer.ProblemDetail!),
        };
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NoTransform() => Problems.NotFound("no-transform", "No transform is attached there.");

    private static TransformResponse Response(TransformView view, string stage)
    {
        using var config = JsonDocument.Parse(view.Config);
        return new TransformResponse(stage, view.Hash, view.Size, config.RootElement.Clone(), view.OnError, view.KeepOriginal, view.Attached, view.Counters, view.RecentErrors, view.Logs);
    }
}

/// <summary>The JSON form of a <c>PUT …/transform</c>.</summary>
internal sealed record TransformRequest(string? Module, JsonElement? Config, string? OnError, bool? KeepOriginal);

/// <summary>An attached module: where it runs, its hash, size, config, error policy, counters, last errors and log lines.</summary>
internal sealed record TransformResponse(
    string Stage,
    string Hash,
    int Size,
    JsonElement Config,
    string OnError,
    bool KeepOriginal,
    DateTimeOffset Attached,
    TransformCountersView Counters,
    IReadOnlyList<TransformErrorView> RecentErrors,
    IReadOnlyList<TransformLogView> Logs);
