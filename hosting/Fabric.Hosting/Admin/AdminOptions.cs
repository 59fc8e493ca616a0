namespace Fabric.Hosting.Admin;

/// <summary>Who may use the admin API. Bound from <c>Fabric:Admin</c>.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Fabric:Admin";

    /// <summary>
    /// Admin keys (<c>Authorization: Bearer &lt;key&gt;</c>), any one of which opens the admin API and every customer's
    /// publish and history API. Several at once allow rotation. Default none: the admin API answers 401 until one is
    /// set (embedded mode adds <c>Fabric:Seed:AdminKeys</c>).
    /// </summary>
    public List<string> Keys { get; set; } = [];
}
