using System.Globalization;

namespace Fabric.Bench;

/// <summary>The few command-line shapes the harness needs: <c>--name value</c> pairs after a command word.</summary>
internal sealed class Args(string[] args)
{
    public string Command => args.Length > 0 ? args[0] : "";

    public string Get(string name, string fallback)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    /// <summary>A flag without a value.</summary>
    public bool Has(string name) => Array.IndexOf(args, "--" + name) >= 0;

    public string Require(string name) =>
        Get(name, "") is { Length: > 0 } value ? value : throw new ArgumentException($"--{name} is required");

    public int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public double Double(string name, double fallback) =>
        double.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public TimeSpan Seconds(string name, double fallback) => TimeSpan.FromSeconds(Double(name, fallback));
}
