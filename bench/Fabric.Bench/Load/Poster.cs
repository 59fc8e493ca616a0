using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Fabric.Bench.Load;

/// <summary>Posts stamped events to a server's ingest or broadcast endpoint, as a burst or at a fixed rate.</summary>
internal sealed class Poster(Uri url, int bodyBytes, int connections) : IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    private long sequence;

    private long errors;

    public long Errors => Interlocked.Read(ref errors);

    public long Sent => Interlocked.Read(ref sequence);

    /// <summary>Posts <paramref name="count"/> events with <paramref name="concurrency"/> closed-loop workers.</summary>
    public async Task BurstAsync(int count, int concurrency)
    {
        var remaining = count;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                await PostOneAsync();
            }
        }));
    }

    /// <summary>
    /// Open loop: starts <paramref name="rate"/> posts a second whether or not earlier ones have been answered (up to
    /// <paramref name="maxInFlight"/>), so a slow server shows up as latency rather than as a lower offered load.
    /// </summary>
    public async Task<long> AtRateAsync(double rate, TimeSpan duration, int maxInFlight)
    {
        using var gate = new SemaphoreSlim(maxInFlight);
        var inFlight = new List<Task>();
        var started = Stopwatch.GetTimestamp();
        long issued = 0, skipped = 0;
        while (Stopwatch.GetElapsedTime(started) < duration)
        {
            var due = (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * rate);
            for (; issued < due; issued++)
            {
                if (!gate.Wait(0))
                {
                    skipped++;
                    continue;
                }

                inFlight.Add(Task.Run(async () =>
                {
                    try
                    {
                        await PostOneAsync();
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }

            if (inFlight.Count > 4096)
            {
                inFlight.RemoveAll(t => t.IsCompleted);
            }

            await Task.Delay(1);
        }

        await Task.WhenAll(inFlight);
        return skipped;
    }

    public async Task PostOneAsync()
    {
        var n = Interlocked.Increment(ref sequence);
        using var content = new ByteArrayContent(Payload.Make(n, bodyBytes));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await http.PostAsync(url, content);
            await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.NoContent))
            {
                Interlocked.Increment(ref errors);
            }
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref errors);
        }
    }

    public void Dispose() => http.Dispose();
}
