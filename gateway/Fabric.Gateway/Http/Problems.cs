using Microsoft.AspNetCore.Http.HttpResults;

namespace Fabric.Gateway.Http;

/// <summary>
/// The 4xx (and 503) answers of every endpoint, as problem+json with a stable <c>type</c> a client can switch on.
/// Details name the rule that was broken, never the payload, a secret or an expected signature.
/// </summary>
internal static class Problems
{
    public const string TypeBase = "https://fabric.dev/problems/";

    public static ProblemHttpResult BadRequest(string code, string detail) => Problem(StatusCodes.Status400BadRequest, code, "Bad request", detail);

    public static ProblemHttpResult InvalidCustomer() => BadRequest("invalid-customer", "The customer id must be " + InputRules.IdRule + ".");

    public static ProblemHttpResult InvalidSource() => BadRequest("invalid-source", "The source name must be " + InputRules.IdRule + ".");

    public static ProblemHttpResult ReservedSourceName(IEnumerable<string> reserved) =>
        BadRequest("reserved-source-name", "That source name is reserved for Fabric's own events: " + string.Join(", ", reserved) + ".");

    public static ProblemHttpResult TooLarge(long limit) => Problem(StatusCodes.Status413PayloadTooLarge, "payload-too-large", "Payload too large", $"The body is larger than the limit of {limit} bytes.");

    public static ProblemHttpResult RequestTimeout(TimeSpan limit) =>
        Problem(StatusCodes.Status408RequestTimeout, "request-timeout", "Request timeout", $"The request did not complete within {limit.TotalSeconds:0.###} s; nothing was stored. Send the body promptly and retry.");

    public static ProblemHttpResult BodyTooSlow() =>
        Problem(StatusCodes.Status408RequestTimeout, "request-timeout", "Request timeout", "The body arrived slower than the minimum data rate; nothing was stored. Send the body promptly and retry.");

    /// <summary>Kestrel's own refusal of a body (cut short, broken chunked framing); its message names the rule, never the data.</summary>
    public static ProblemHttpResult BadRequestBody(int status, string reason) => Problem(status, "invalid-request-body", "Bad request body", reason);

    public static ProblemHttpResult UnsupportedMediaType(string detail) => Problem(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type", detail);

    public static ProblemHttpResult Unavailable(string detail) => Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", "Service unavailable", detail);

    /// <summary>The same answer for an unknown customer and an unknown source, so neither can be probed.</summary>
    public static ProblemHttpResult UnknownSource() => Problem(StatusCodes.Status404NotFound, "unknown-source", "Unknown source", "No source of that name is configured for that customer.");

    public static ProblemHttpResult UnknownCustomer() => Problem(StatusCodes.Status404NotFound, "unknown-customer", "Unknown customer", "No customer of that id is registered.");

    public static ProblemHttpResult NotFound(string code, string detail) => Problem(StatusCodes.Status404NotFound, code, "Not found", detail);

    public static ProblemHttpResult Conflict(string code, string detail) => Problem(StatusCodes.Status409Conflict, code, "Conflict", detail);

    public static ProblemHttpResult Unauthorized(string detail = "A valid key is required: Authorization: Bearer <key>.") =>
        Problem(StatusCodes.Status401Unauthorized, "unauthorized", "Unauthorized", detail);

    public static ProblemHttpResult Forbidden(string detail = "This key may not do that for this customer.") => Problem(StatusCodes.Status403Forbidden, "forbidden", "Forbidden", detail);

    /// <summary>A signature check failed: 401 with the scheme's problem code (missing-signature, invalid-signature, timestamp-out-of-tolerance).</summary>
    public static ProblemHttpResult Signature(string code, string detail) => Problem(StatusCodes.Status401Unauthorized, code, "Signature check failed", detail);

    public static ProblemHttpResult ForbiddenOrigin() =>
        Problem(StatusCodes.Status403Forbidden, "forbidden-origin", "Forbidden", "Sockets may not be opened from this origin (Fabric:Sockets:AllowedOrigins).");

    public static ProblemHttpResult TooManyConnections(string detail) => Problem(StatusCodes.Status429TooManyRequests, "too-many-connections", "Too many connections", detail);

    public static ProblemHttpResult RateLimited(string detail) => Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests", detail);

    /// <summary>The source's Wasm transform failed and its policy is <c>reject</c>: 422, nothing stored.</summary>
    public static ProblemHttpResult TransformRejected(string kind) =>
        Problem(StatusCodes.Status422UnprocessableEntity, "transform-rejected", "Rejected by the transform", $"The source's transform failed ({kind}) and its policy rejects the event; nothing was stored.");

    public static ProblemHttpResult Unprocessable(string code, string detail) => Problem(StatusCodes.Status422UnprocessableEntity, code, "Unprocessable", detail);

    public static ProblemHttpResult Problem(int status, string code, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypeBase + code);
}
