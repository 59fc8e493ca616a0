using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Fabric.Rules.Outbound;

/// <summary>
/// Where outbound webhooks may go. A customer's URL must not reach inside the fabric's own network: private,
/// loopback, link-local (cloud metadata at 169.254.169.254 among them), carrier-grade NAT, multicast and unspecified
/// addresses are refused, unless <see cref="OutboundOptions.AllowedHosts"/> names the host, the address or a range
/// holding it. Checked at registration (every address the name resolves to) and again at connect time, on the
/// address actually dialled, so a name that resolves elsewhere later (DNS rebinding) is caught.
/// </summary>
public sealed class EgressPolicy
{
    private static readonly IpRange[] Blocked =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
            "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10",
            "ff00::/8", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "2002::/16", "fec0::/10",
        }.Select(IpRange.Parse),
    ];

    private readonly HashSet<string> _allowedHosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<IpRange> _allowedRanges = [];
    private readonly bool _httpsOnly;

    public EgressPolicy(IOptions<OutboundOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _httpsOnly = options.Value.HttpsOnly;
        foreach (var entry in options.Value.AllowedHosts)
        {
            if (IpRange.TryParse(entry, out var range))
            {
                _allowedRanges.Add(range);
            }
            else
            {
                _allowedHosts.Add(entry.Trim());
            }
        }
    }

    /// <summary>Why <paramref name="url"/> may not be an endpoint, from its text alone (scheme, credentials, literal address); null when it may.</summary>
    public string? CheckSyntax(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(uri.Host))
        {
            return "\"url\" must be an absolute http or https URL.";
        }

        if (_httpsOnly && uri.Scheme != Uri.UriSchemeHttps)
        {
            return "\"url\" must be https (Fabric:Outbound:HttpsOnly).";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "\"url\" must not carry credentials; use \"headers\".";
        }

        if (url!.Length > 2048)
        {
            return "\"url\" must be at most 2048 characters.";
        }

        var host = uri.IdnHost.Trim('[', ']');
        return IPAddress.TryParse(host, out var address) && !IsAllowed(host, address) ? Refusal : null;
    }

    /// <summary>Like <see cref="CheckSyntax"/>, and every address the host resolves to now must be allowed.</summary>
    public async Task<string?> CheckAsync(string? url, CancellationToken cancellationToken)
    {
        if (CheckSyntax(url) is { } problem)
        {
            return problem;
        }

        var host = new Uri(url!).IdnHost.Trim('[', ']');
        if (IPAddress.TryParse(host, out _) || _allowedHosts.Contains(host))
        {
            return null;
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (SocketException)
        {
            // Not resolvable now (a name made ready later, a split-horizon DNS): accepted; every connection is checked anyway.
            return null;
        }

        return addresses.Length == 0 || addresses.Any(a => !IsAllowed(host, a)) ? Refusal : null;
    }

    /// <summary>Whether a connection to <paramref name="address"/> (reached through <paramref name="host"/>) may be made.</summary>
    public bool IsAllowed(string host, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (_allowedHosts.Contains(host) || _allowedRanges.Any(r => r.Contains(address)))
        {
            return true;
        }

        return !Blocked.Any(r => r.Contains(address));
    }

    private const string Refusal =
        "\"url\" reaches a private, loopback, link-local or metadata address, which endpoints may not (allow it in Fabric:Outbound:AllowedHosts).";
}

/// <summary>A connection refused by the <see cref="EgressPolicy"/> at connect time.</summary>
public sealed class EgressBlockedException(string host) : Exception($"Connections to {host} are not allowed by the egress policy.");
