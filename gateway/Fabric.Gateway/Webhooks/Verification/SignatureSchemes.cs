namespace Fabric.Gateway.Webhooks.Verification;

/// <summary>Every scheme by its contract name.</summary>
internal static class SignatureSchemes
{
    public const int MaxSecrets = 10;

    private static readonly Dictionary<string, SignatureScheme> ByName = new SignatureScheme[]
    {
        new StandardWebhooksScheme(), new StripeScheme(), new GitHubScheme(), new ShopifyScheme(),
        new SlackScheme(), new HmacScheme(), new NoneScheme(),
    }.ToDictionary(s => s.Name, StringComparer.Ordinal);

    public static IEnumerable<string> Names => ByName.Keys;

    public static SignatureScheme? Find(string? name) => name is not null && ByName.TryGetValue(name, out var scheme) ? scheme : null;
}
