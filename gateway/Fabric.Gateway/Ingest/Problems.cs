using Microsoft.AspNetCore.Http.HttpResults;

namespace Fabric.Gateway.Ingest;

/// <summary>
/// The 4xx answers of the ingest paths, as problem+json with a stable <c>type</c> a client can switch on.
/// Details name the rule that was broken, never the payload.
/// </summary>
internal static class Problems
{
    private const string TypeBase = "https://fabric.dev/problems/";

    public static IResult BadRequest(string code, string detail) => Problem(StatusCodes.Status400BadRequest, code, "Bad request", detail);

    public static IResult InvalidCustomer() => BadRequest("invalid-customer", "The customer id must be " + Names.IdRule + ".");

    public static IResult TooLarge(long limit) => Problem(StatusCodes.Status413PayloadTooLarge, "payload-too-large", "Payload too large", $"The body is larger than the limit of {limit} bytes.");

    public static IResult UnsupportedMediaType(string detail) => Problem(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type", detail);

    public static IResult Unavailable(string detail) => Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", "Service unavailable", detail);

    private static ProblemHttpResult Problem(int status, string code, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypeBase + code);
}
