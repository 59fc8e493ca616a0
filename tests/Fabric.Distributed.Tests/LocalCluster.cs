using System.Diagnostics;

namespace Fabric.Distributed.Tests;

/// <summary>
/// One distributed Fabric of real processes, run through <c>scripts/cluster</c> exactly as an operator would, with
/// its own state directory and port offset so that it shares the machine with nothing else.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private static int _nextOffset = 300;
    private readonly string _root = FindRoot();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fabric-cluster-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly int _offset = Interlocked.Add(ref _nextOffset, 10);

    public Uri Gateway1 => new($"http://127.0.0.1:{5001 + _offset}");

    public Uri Gateway2 => new($"http://127.0.0.1:{5002 + _offset}");

    public Uri[] Gateways => [Gateway1, Gateway2];

    /// <summary>The silos' HTTP ports (probes, /metrics, the dashboard).</summary>
    public Uri Silo1 => new($"http://127.0.0.1:{8081 + _offset}");

    public Uri Silo2 => new($"http://127.0.0.1:{8082 + _offset}");

    public string RedisAddress => $"127.0.0.1:{6380 + _offset}";

    /// <summary>The password scripts/cluster starts Redis with: FABRIC_REDIS_PASSWORD, or the script's local default.</summary>
    public static string RedisPassword =>
        Environment.GetEnvironmentVariable("FABRIC_REDIS_PASSWORD") is { Length: > 0 } password ? password : "fabric-cluster-redis-password";

    /// <summary>A StackExchange.Redis configuration string for this cluster's Redis, password included.</summary>
    public string RedisConnectionString => $"{RedisAddress},password={RedisPassword}";

    /// <summary>scripts/cluster's default admin key.</summary>
    public const string AdminKey = "fabric-cluster-admin-key";

    /// <summary>An HTTP client that sends the admin key.</summary>
    public static HttpClient AdminClient()
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
        return http;
    }

    /// <summary>Registers customers, each with an unsigned source, through the admin API of the first gateway.</summary>
    public async Task RegisterAsync(IEnumerable<string> customers, string source)
    {
        using var http = AdminClient();
        foreach (var customer in customers)
        {
            (await http.PutAsync(new Uri(Gateway1, $"/v1/admin/customers/{customer}"), null)).EnsureSuccessStatusCode();
            using var body = new StringContent("""{"scheme":"none"}""", System.Text.Encoding.UTF8, "application/json");
            (await http.PutAsync(new Uri(Gateway1, $"/v1/admin/customers/{customer}/sources/{source}"), body)).EnsureSuccessStatusCode();
        }
    }

    /// <summary>Runs <c>redis-cli</c> against this cluster's Redis and returns what it printed (one reply per line).</summary>
    public async Task<string> RedisAsync(params string[] args)
    {
        var (host, port) = (RedisAddress.Split(':')[0], RedisAddress.Split(':')[1]);
        var start = new ProcessStartInfo("redis-cli", ["-h", host, "-p", port, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // From the environment, not the command line, where every process on the machine could read it.
        start.Environment["REDISCLI_AUTH"] = RedisPassword;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"redis-cli {string.Join(' ', args)} failed: {await stderr}");
        return (await stdout).Trim();
    }

    /// <summary>The keys in this cluster's Redis, sorted.</summary>
    public async Task<string[]> RedisKeysAsync() =>
        [.. (await RedisAsync("--scan")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)];

    /// <summary>Starts the cluster; <paramref name="settings"/> (environment variables such as <c>Fabric__Sockets__RenewInterval</c>) reach every part.</summary>
    public static async Task<LocalCluster> UpAsync(Dictionary<string, string>? settings = null)
    {
        var cluster = new LocalCluster();
        foreach (var (name, value) in settings ?? [])
        {
            cluster.Settings[name] = value;
        }

        await cluster.RunAsync("up");
        return cluster;
    }

    /// <summary>Environment variables every part of the cluster starts with.</summary>
    public Dictionary<string, string> Settings { get; } = [];

    public static LocalCluster Create() => new();

    public Task StartAsync(string part) => RunAsync("start", part);

    public Task StopAsync(string part) => RunAsync("stop", part);

    public Task KillAsync(string part) => RunAsync("kill", part);

    /// <summary>The files a running part of the cluster has mapped (its loaded assemblies and native libraries), from /proc.</summary>
    public string[] MappedFiles(string part)
    {
        var pid = File.ReadAllText(Path.Combine(_dir, part + ".pid")).Trim();
        return [.. File.ReadLines($"/proc/{pid}/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 5).Select(f => Path.GetFileName(f[5])).Distinct()];
    }

    public string Log(string part) => File.Exists(Path.Combine(_dir, "logs", part + ".log")) ? File.ReadAllText(Path.Combine(_dir, "logs", part + ".log")) : "";

    public async Task RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(_root, "scripts", "cluster"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _root,
        };
        start.Environment["FABRIC_CLUSTER_DIR"] = _dir;
        start.Environment["FABRIC_CLUSTER_OFFSET"] = _offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["FABRIC_CLUSTER_BUILD"] = "0";
        start.Environment["FABRIC_CLUSTER_CONFIG"] = BuildConfiguration();
        foreach (var (name, value) in Settings)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"scripts/cluster {string.Join(' ', args)} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("down");
        }
        finally
        {
            try
            {
                // FABRIC_KEEP_CLUSTER=1 keeps logs and Redis data for a look after the test.
                if (Environment.GetEnvironmentVariable("FABRIC_KEEP_CLUSTER") != "1")
                {
                    Directory.Delete(_dir, recursive: true);
                }
            }
            catch (IOException)
            {
                // A process still flushing its log; the temp directory is harmless.
            }
        }
    }

    /// <summary>The tests run against the build they were built with (Debug under a plain <c>dotnet test</c>).</summary>
    internal static string BuildConfiguration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    internal static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Fabric.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Fabric.sln not found above " + AppContext.BaseDirectory);
    }
}
