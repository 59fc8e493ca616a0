using System.Security.Cryptography;
using System.Text;
using Fabric.Hosting.Cluster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Fabric.Hosting.Admin;

/// <summary>
/// The configured admin keys, held as hashes and compared in constant time. In embedded mode the seeded
/// <c>Fabric:Seed:AdminKeys</c> count too, so the quick start works without setup.
/// </summary>
public sealed class AdminKeys
{
    private readonly byte[][] _hashes;

    public AdminKeys(IOptions<AdminOptions> options, IConfiguration configuration)
    {
        var keys = options.Value.Keys.AsEnumerable();
        if (!FabricMode.IsDistributed(configuration))
        {
            keys = keys.Concat(configuration.GetSection("Fabric:Seed:AdminKeys").Get<string[]>() ?? []);
        }

        _hashes = [.. keys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))];
    }

    public bool Any => _hashes.Length > 0;

    public bool Matches(string token)
    {
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        var matched = false;
        foreach (var hash in _hashes)
        {
            matched |= CryptographicOperations.FixedTimeEquals(presented, hash);
        }

        return matched;
    }
}
