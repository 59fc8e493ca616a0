using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Fabric.Gateway.Tests;

/// <summary>
/// HTTP/1.1 over a bare TCP connection, for what HttpClient will not do: send part of a body and stall, drop the
/// connection mid-body, or show exactly what came back before a WebSocket upgrade.
/// </summary>
public sealed class RawHttpConnection : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawHttpConnection(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawHttpConnection> OpenAsync(Uri baseAddress)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        return new RawHttpConnection(tcp);
    }

    /// <summary>Sends a request line and headers (and an optional start of the body) exactly as given.</summary>
    public Task SendAsync(string text) => _stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

    /// <summary>Reads one response: status, headers and body (by Content-Length, chunked, or to the end of the connection).</summary>
    public async Task<RawResponse> ReadResponseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var reader = new Reader(_stream, cts.Token);
        var statusLine = await reader.LineAsync();
        var status = int.Parse(statusLine.Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var line = await reader.LineAsync(); line.Length > 0; line = await reader.LineAsync())
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var body = new MemoryStream();
        if (headers.TryGetValue("Content-Length", out var length))
        {
            await reader.CopyAsync(body, int.Parse(length, CultureInfo.InvariantCulture));
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            for (var size = ChunkSize(await reader.LineAsync()); size > 0; size = ChunkSize(await reader.LineAsync()))
            {
                await reader.CopyAsync(body, size);
                await reader.LineAsync();
            }
        }
        else if (status != 101)
        {
            await reader.CopyToEndAsync(body);
        }

        return new RawResponse(status, headers, Encoding.UTF8.GetString(body.ToArray()));
    }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }

    private static int ChunkSize(string line) => int.Parse(line.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>Byte-at-a-time reading: responses here are small, and no byte past the response may be consumed.</summary>
    private sealed class Reader(NetworkStream stream, CancellationToken cancellationToken)
    {
        private readonly byte[] _one = new byte[1];

        public async Task<string> LineAsync()
        {
            var line = new StringBuilder();
            while (await NextAsync() is var b && b != '\n')
            {
                if (b < 0)
                {
                    throw new EndOfStreamException("The connection closed in the middle of a line.");
                }

                if (b != '\r')
                {
                    line.Append((char)b);
                }
            }

            return line.ToString();
        }

        public async Task CopyAsync(MemoryStream body, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var b = await NextAsync();
                if (b < 0)
                {
                    throw new EndOfStreamException("The connection closed in the middle of the body.");
                }

                body.WriteByte((byte)b);
            }
        }

        public async Task CopyToEndAsync(MemoryStream body)
        {
            for (var b = await NextAsync(); b >= 0; b = await NextAsync())
            {
                body.WriteByte((byte)b);
            }
        }

        private async Task<int> NextAsync() => await stream.ReadAsync(_one, cancellationToken) == 0 ? -1 : _one[0];
    }
}

/// <summary>A response read by <see cref="RawHttpConnection"/>.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? ContentType => Headers.TryGetValue("Content-Type", out var type) ? type.Split(';')[0] : null;
}
