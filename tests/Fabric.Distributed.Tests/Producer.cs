using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Fabric.Distributed.Tests;

/// <summary>
/// A webhook producer that behaves as Fabric asks producers to: every event has an idempotency key, and an event that
/// was not acknowledged (503, a dropped connection, a gateway gone) is retried with the same key, on the next gateway,
/// until it is. What was acknowledged, and as which seq, is the ground truth the tests hold the sockets to.
/// </summary>
public sealed class Producer(Uri[] gateways, string[] customers, TimeSpan pause) : IDisposable
{
    /// <summary>The unsigned source the producer posts to; <see cref="LocalCluster.RegisterAsync"/> creates it.</summary>
    public const string Source = "drill";

    // Shorter than Orleans' 30 s response timeout, as a producer's webhook sender would be.
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private long _next;

    /// <summary>(customer, key) → (seq, when the attempt that was acknowledged was sent, when it was acknowledged).</summary>
    public ConcurrentDictionary<(string Customer, string Key), (long Seq, long SentAt, long AckedAt)> Acked { get; } = new();

    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Why attempts failed: 503 answers, timeouts, refused or dropped connections.</summary>
    public string Failures => $"{Interlocked.Read(ref _unavailable)} × 503, {Interlocked.Read(ref _timeouts)} timeouts, {Interlocked.Read(ref _connectionErrors)} connection errors";

    private long _retries;
    private long _unavailable;
    private long _timeouts;
    private long _connectionErrors;

    /// <summary>Only these gateways are used while set (e.g. after one is killed on purpose).</summary>
    public Uri[]? Only { get; set; }

    public Task RunAsync(int workers, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref _next);
                await PostUntilAckedAsync(customers[n % customers.Length], $"k{n}", n, w);
                await Task.Delay(pause, CancellationToken.None);
            }
        }, CancellationToken.None)));

    public long MaxAckedSeq(string customer) =>
        Acked.Where(a => a.Key.Customer == customer).Select(a => a.Value.Seq).DefaultIfEmpty(0).Max();

    private async Task PostUntilAckedAsync(string customer, string key, long n, int worker)
    {
        var deadline = Stopwatch.StartNew();
        for (var attempt = 0; deadline.Elapsed < TimeSpan.FromMinutes(2); attempt++)
        {
            var pool = Only ?? gateways;
            var gateway = pool[(worker + attempt) % pool.Length];
            var sentAt = Stopwatch.GetTimestamp();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, $"/v1/webhooks/{customer}/{Source}"))
                {
                    Content = new StringContent($"{{\"type\":\"drill.tick\",\"n\":{n}}}", Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("Idempotency-Key", key);
                using var response = await _http.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    Acked[(customer, key)] = (body.RootElement.GetProperty("seq").GetInt64(), sentAt, Stopwatch.GetTimestamp());
                    return;
                }

                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable,
                    $"Unexpected {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                Interlocked.Increment(ref _unavailable);
            }
            catch (TaskCanceledException)
            {
                // No answer in time: the outcome is unknown, so retry with the same key.
                Interlocked.Increment(ref _timeouts);
            }
            catch (HttpRequestException)
            {
                // The gateway is gone: retry with the same key, on the next gateway.
                Interlocked.Increment(ref _connectionErrors);
            }

            Interlocked.Increment(ref _retries);
            await Task.Delay(100);
        }

        Assert.Fail($"Event {key} of {customer} was never acknowledged.");
    }

    public void Dispose() => _http.Dispose();
}
