using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Fabric.Contracts.Endpoints;
using Fabric.Rules.Outbound;
using Microsoft.Extensions.Options;

namespace Fabric.Outbound.Delivery;

/// <summary>What one attempt came to.</summary>
/// <param name="Attempt">As the attempt log keeps it.</param>
/// <param name="RetryAfter">The receiver's <c>Retry-After</c> on a 429 or 503, bounded by <see cref="OutboundOptions.MaxRetryAfter"/>.</param>
public sealed record AttemptResult(AttemptView Attempt, TimeSpan? RetryAfter)
{
    public bool Succeeded => Attempt.ResponseStatus is >= 200 and < 300;

    /// <summary>410 Gone: the receiver asks for no more deliveries, and the endpoint is disabled.</summary>
    public bool Gone => Attempt.ResponseStatus == 410;
}

/// <summary>
/// POSTs one signed delivery through the pooled <c>fabric-outbound</c> client (<see cref="IHttpClientFactory"/>):
/// no redirects, the egress guard at connect time, a timeout per attempt, and at most
/// <see cref="OutboundOptions.ResponseExcerptBytes"/> of the response read.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, IOptions<OutboundOptions> options, TimeProvider time)
{
    public const string ClientName = "fabric-outbound";

    private readonly OutboundOptions _options = options.Value;

    public async Task<AttemptResult> SendAsync(Uri url, IReadOnlyDictionary<string, string> headers, byte[] body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var started = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token);
            var excerpt = await ExcerptAsync(response, timeoutSource.Token);
            var status = (int)response.StatusCode;
            TimeSpan? retryAfter = status is 429 or 503 ? RetryAfter(response, started) : null;
            return new AttemptResult(new AttemptView(started, clock.Elapsed.TotalMilliseconds, status, excerpt, null), retryAfter);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failure(started, clock, "timeout");
        }
        catch (HttpRequestException ex)
        {
            return Failure(started, clock, ex.InnerException switch
            {
                EgressBlockedException => "blocked-address",
                SocketException => "connect",
                _ when ex.HttpRequestError == HttpRequestError.NameResolutionError => "dns",
                _ when ex.HttpRequestError == HttpRequestError.ConnectionError => "connect",
                _ => "io",
            });
        }
        catch (IOException)
        {
            return Failure(started, clock, "io");
        }
    }

    private static AttemptResult Failure(DateTimeOffset started, Stopwatch clock, string error) =>
        new(new AttemptView(started, clock.Elapsed.TotalMilliseconds, null, null, error), null);

    /// <summary>The start of the body as text, bounded; the rest is never read (a receiver may answer with anything).</summary>
    private async Task<string?> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (_options.ResponseExcerptBytes == 0)
        {
            return null;
        }

        var limit = _options.ResponseExcerptBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(limit);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var read = 0;
            while (read < limit)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read, limit - read), cancellationToken);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        var header = response.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - now : null);
        return wait is { } w ? TimeSpan.FromTicks(Math.Clamp(w.Ticks, 0, _options.MaxRetryAfter.Ticks)) : null;
    }
}
