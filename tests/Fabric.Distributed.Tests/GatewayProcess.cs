using System.Diagnostics;
using System.Net;
using System.Text;

namespace Fabric.Distributed.Tests;

/// <summary>
/// One embedded gateway (co-hosted silo, in-memory log) as its own process, optionally pinned to some CPUs with
/// <c>taskset</c>: a host that is short of CPU, which an in-process test server cannot be. Its output is kept, so a
/// test can count what it logged.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private GatewayProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output { get { lock (_output) { return _output.ToString(); } } }

    /// <param name="cpus">A <c>taskset</c> CPU list ("0"), or null for no pinning.</param>
    /// <param name="settings">Configuration as <c>key=value</c>, passed on the command line.</param>
    public static async Task<GatewayProcess> StartAsync(string? cpus, params string[] settings)
    {
        var root = LocalCluster.FindRoot();
        var dll = Path.Combine(root, "gateway", "Fabric.Gateway.Embedded", "bin", LocalCluster.BuildConfiguration(), "net10.0", "Fabric.Gateway.Embedded.dll");
        var (http, silo, gateway) = (Ports.Free(), Ports.Free(), Ports.Free());
        string[] args =
        [
            dll, "--urls", $"http://127.0.0.1:{http}",
            $"--Fabric:Embedded:SiloPort={silo}", $"--Fabric:Embedded:GatewayPort={gateway}",
            .. settings.Select(s => "--" + s),
        ];
        var start = cpus is null ? new ProcessStartInfo("dotnet", args) : new ProcessStartInfo("taskset", ["-c", cpus, "dotnet", .. args]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = root;
        var process = Process.Start(start)!;
        var gatewayProcess = new GatewayProcess(process, new Uri($"http://127.0.0.1:{http}"));
        process.OutputDataReceived += (_, e) => gatewayProcess.Append(e.Data);
        process.ErrorDataReceived += (_, e) => gatewayProcess.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromMinutes(1); await Task.Delay(200))
        {
            Assert.False(process.HasExited, "the gateway exited:\n" + gatewayProcess.Output);
            try
            {
                if ((await client.GetAsync(new Uri(gatewayProcess.Address, "/readyz"))).StatusCode == HttpStatusCode.OK)
                {
                    return gatewayProcess;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
        }

        await gatewayProcess.DisposeAsync();
        throw new TimeoutException("the gateway did not become healthy:\n" + gatewayProcess.Output);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
