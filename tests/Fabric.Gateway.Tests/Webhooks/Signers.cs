using System.Diagnostics;
using System.Text.Json;

namespace Fabric.Gateway.Tests.Webhooks;

/// <summary>
/// Signs requests with the providers' own libraries (npm <c>stripe</c>, <c>@octokit/webhooks-methods</c>,
/// <c>standardwebhooks</c>, <c>cloudevents</c>) through <c>tests/signers/sign.mjs</c>, so Fabric's verification is
/// tested against code nobody here wrote. Installs the libraries on first use when scripts/test has not.
/// </summary>
internal static class Signers
{
    private static readonly Lazy<Task<string>> Directory = new(PrepareAsync);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<SignedRequest[]> SignAsync(params object[] requests)
    {
        var dir = await Directory.Value;
        var (code, stdout, stderr) = await RunAsync("node", ["sign.mjs"], dir, JsonSerializer.Serialize(requests));
        Assert.True(code == 0, "sign.mjs failed: " + stderr);
        return JsonSerializer.Deserialize<SignedRequest[]>(stdout, Json)!;
    }

    /// <summary>Connection tokens signed by npm <c>jose</c> (tests/signers/tokens.mjs), in request order.</summary>
    public static async Task<string[]> TokensAsync(params TokenRequest[] requests)
    {
        var dir = await Directory.Value;
        var (code, stdout, stderr) = await RunAsync("node", ["tokens.mjs"], dir, JsonSerializer.Serialize(requests, Json));
        Assert.True(code == 0, "tokens.mjs failed: " + stderr);
        return JsonSerializer.Deserialize<string[]>(stdout, Json)!;
    }

    /// <summary>Checks outbound deliveries with npm <c>standardwebhooks</c> (tests/signers/verify.mjs); null = verified, else the library's error.</summary>
    public static async Task<string?[]> VerifyAsync(params VerifyRequest[] requests)
    {
        var dir = await Directory.Value;
        var (code, stdout, stderr) = await RunAsync("node", ["verify.mjs"], dir, JsonSerializer.Serialize(requests, Json));
        Assert.True(code == 0, "verify.mjs failed: " + stderr);
        return [.. JsonSerializer.Deserialize<VerifyResult[]>(stdout, Json)!.Select(r => r.Ok ? null : r.Error ?? "not verified")];
    }

    /// <summary>Runs another script of tests/signers (independent clients, e.g. npm <c>ws</c>) and returns its exit code and output.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunScriptAsync(string script, params string[] args) =>
        await RunAsync("node", [script, .. args], await Directory.Value, null);

    private static async Task<string> PrepareAsync()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Fabric.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Fabric.sln not found above the test binaries");
        }

        var dir = Path.Combine(root, "tests", "signers");
        if (!System.IO.Directory.Exists(Path.Combine(dir, "node_modules")))
        {
            var (code, _, stderr) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], dir, null);
            Assert.True(code == 0, "npm ci in tests/signers failed (scripts/test installs Node.js): " + stderr);
        }

        return dir;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, string[] args, string dir, string? input)
    {
        var start = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>What a provider's library produced: the headers to send and the exact body they sign.</summary>
internal sealed record SignedRequest(Dictionary<string, string> Headers, string Body);

/// <summary>A token for tests/signers/tokens.mjs: HS256 over the secret's UTF-8 bytes, <c>kid</c> in the header.</summary>
internal sealed record TokenRequest(string Secret, string? Kid, Dictionary<string, object?> Claims, string? Alg = null);

/// <summary>A delivery for tests/signers/verify.mjs: the secret, the three <c>webhook-*</c> headers, the exact body.</summary>
/// <c>At</c>: verify as of this Unix time (the tests' moved clock), instead of now.
internal sealed record VerifyRequest(string Secret, Dictionary<string, string> Headers, string Body, long? At = null)
{
    /// <summary>A delivery as a receiver got it, verified as of its own timestamp.</summary>
    public static VerifyRequest Of(string secret, IReadOnlyDictionary<string, string> headers, string body) => new(
        secret,
        new() { ["webhook-id"] = headers["webhook-id"], ["webhook-timestamp"] = headers["webhook-timestamp"], ["webhook-signature"] = headers["webhook-signature"] },
        body,
        long.Parse(headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture));
}

internal sealed record VerifyResult(bool Ok, string? Error);
