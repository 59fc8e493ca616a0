using Microsoft.AspNetCore.Diagnostics;

namespace Fabric.Gateway.Http;

/// <summary>
/// A body Kestrel refused while it was being read is the client's doing, not a bug of ours: it sent less than it
/// declared (usually because it went away), broke the chunked framing, or sent slower than <c>Fabric:Http</c>'s minimum
/// rate. Answered with Kestrel's status as problem+json and logged at Debug; as an unhandled exception it was an error
/// log with a stack trace for every dropped connection.
/// </summary>
internal sealed partial class BadRequestBodyHandler(ILogger<BadRequestBodyHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException rejected)
        {
            return false;
        }

        Log.BodyRejected(logger, rejected.StatusCode, rejected.Message);
        var problem = rejected.StatusCode switch
        {
            StatusCodes.Status408RequestTimeout => Problems.BodyTooSlow(),
            _ => Problems.BadRequestBody(rejected.StatusCode, rejected.Message),
        };
        await problem.ExecuteAsync(httpContext);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(900, LogLevel.Debug, "Request body refused with {Status}: {Reason}")]
        public static partial void BodyRejected(ILogger logger, int status, string reason);
    }
}
