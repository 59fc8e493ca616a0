using Fabric.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Fabric.Gateway.Events;

/// <summary>One event of a batch as the endpoint read it: the event to append, or why it is refused.</summary>
internal sealed record BatchItem(IncomingEvent? Event, ProblemHttpResult? Problem);

/// <summary>The 202 body of a batch: one result per event, in request order.</summary>
internal sealed record BatchResponse(IReadOnlyList<BatchResult> Results);

/// <summary>An appended event (<c>id</c>, <c>seq</c>, <c>duplicate</c>) or an <c>error</c> (a problem, nothing stored).</summary>
internal sealed record BatchResult(string? Id, long? Seq, bool? Duplicate, BatchError? Error, bool? Dropped = null)
{
    public static BatchResult From(AppendResult result) =>
        result.Dropped ? new(null, null, false, null, Dropped: true) : new(result.Id, result.Seq, result.Duplicate, null);

    public static BatchResult From(ProblemHttpResult problem) =>
        new(null, null, null, new BatchError(problem.ProblemDetails.Type!, problem.ProblemDetails.Title!, problem.StatusCode, problem.ProblemDetails.Detail!));
}

/// <summary>The problem+json fields of one refused event.</summary>
internal sealed record BatchError(string Type, string Title, int Status, string Detail);
