namespace Fabric.Gateway.Admin;

/// <summary>
/// Customers, sources and keys an embedded gateway registers at start, so the quick start works with no setup. Bound
/// from <c>Fabric:Seed</c>; ignored in distributed mode, whose registry is durable and managed through the admin API.
/// </summary>
public sealed class SeedOptions
{
    public const string SectionName = "Fabric:Seed";

    /// <summary>Admin keys accepted in embedded mode besides <c>Fabric:Admin:Keys</c>.</summary>
    public List<string> AdminKeys { get; set; } = [];

    /// <summary>Customers by id.</summary>
    public Dictionary<string, SeedCustomer> Customers { get; set; } = [];
}

/// <summary>A seeded customer.</summary>
public sealed class SeedCustomer
{
    public string? Name { get; set; }

    /// <summary>Sources by name, shaped like the admin API's source body.</summary>
    public Dictionary<string, SeedSource> Sources { get; set; } = [];

    /// <summary>API keys given in full (<c>fab~{customer}~key_…~…</c>), so a README can quote them.</summary>
    public List<SeedKey> Keys { get; set; } = [];

    /// <summary>Connection-token signing keys given in full, so a benchmark or a README can sign tokens with them.</summary>
    public List<SeedSigningKey> SigningKeys { get; set; } = [];
}

/// <summary>A seeded connection-token signing key: its id (<c>sk_…</c>, the tokens' <c>kid</c>) and secret (32+ characters).</summary>
public sealed class SeedSigningKey
{
    public string Id { get; set; } = "";

    public string Secret { get; set; } = "";
}

/// <summary>A seeded source.</summary>
public sealed class SeedSource
{
    public string? Scheme { get; set; }

    public List<string> Secrets { get; set; } = [];

    public int? ToleranceSeconds { get; set; }

    public string? Header { get; set; }

    public string? Algorithm { get; set; }

    public string? Encoding { get; set; }

    public string? Prefix { get; set; }
}

/// <summary>A seeded API key.</summary>
public sealed class SeedKey
{
    public string Key { get; set; } = "";

    public List<string> Scopes { get; set; } = [];
}
