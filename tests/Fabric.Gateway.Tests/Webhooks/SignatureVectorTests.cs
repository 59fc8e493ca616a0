using System.Text;
using Fabric.Gateway.Webhooks.Verification;
using Microsoft.AspNetCore.Http;

namespace Fabric.Gateway.Tests.Webhooks;

/// <summary>
/// Every scheme against the providers' official vectors (webhook-anchors.md), and the negative cases of their own
/// test suites: missing headers, empty or truncated signatures, timestamps 301 s off, decoys beside a valid signature.
/// </summary>
public sealed class SignatureVectorTests
{
    // Standard Webhooks: the JS and C# libraries' vector, and the Go library's Ed25519 one.
    private const string StdSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string StdId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long StdTime = 1614265330;
    private const string StdBody = "{\"test\": 2432232314}";
    private const string StdSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    private const string StdEd25519Signature = "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==";

    // GitHub's documented vector; Shopify's digest of the same (base64), derived in the anchors.
    private const string GitHubSecret = "It's a Secret to Everybody";
    private const string GitHubBody = "Hello, World!";
    private const string GitHubSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    private const string ShopifySignature = "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=";

    [Fact]
    public void Standard_webhooks_official_vector_passes()
    {
        Assert.True(Verify(new StandardWebhooksScheme(), StdSecret, StdHeaders(StdSignature), StdBody, StdTime).Passed);
    }

    [Fact]
    public void Standard_webhooks_svix_headers_are_the_same_scheme()
    {
        var headers = new HeaderDictionary { ["svix-id"] = StdId, ["svix-timestamp"] = StdTime.ToString(), ["svix-signature"] = StdSignature };
        Assert.True(Verify(new StandardWebhooksScheme(), StdSecret, headers, StdBody, StdTime).Passed);
    }

    [Fact]
    public void Standard_webhooks_ed25519_official_vector_passes_with_the_public_key()
    {
        var seed = Convert.FromBase64String("VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=");
        using var key = NSec.Cryptography.Key.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, seed, NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
        var publicKey = "whpk_" + Convert.ToBase64String(key.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey));

        Assert.True(Verify(new StandardWebhooksScheme(), publicKey, StdHeaders(StdEd25519Signature), StdBody, StdTime).Passed);
        Assert.Equal("invalid-signature", Verify(new StandardWebhooksScheme(), publicKey, StdHeaders(StdSignature), StdBody, StdTime).Problem);
    }

    [Theory]
    [InlineData("v1,")]
    [InlineData("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O")]
    [InlineData("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    [InlineData("v1,Ah0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    public void Standard_webhooks_empty_truncated_or_foreign_signature_fails(string signature)
    {
        Assert.Equal("invalid-signature", Verify(new StandardWebhooksScheme(), StdSecret, StdHeaders(signature), StdBody, StdTime).Problem);
    }

    [Fact]
    public void Standard_webhooks_valid_signature_among_decoys_passes()
    {
        var headers = StdHeaders($"v1,Zm9v v2,{StdSignature[3..]} {StdSignature} v1a,YmFy");
        Assert.True(Verify(new StandardWebhooksScheme(), StdSecret, headers, StdBody, StdTime).Passed);
    }

    [Theory]
    [InlineData("webhook-id")]
    [InlineData("webhook-timestamp")]
    [InlineData("webhook-signature")]
    public void Standard_webhooks_missing_header_is_named(string header)
    {
        var headers = StdHeaders(StdSignature);
        headers.Remove(header);
        var result = Verify(new StandardWebhooksScheme(), StdSecret, headers, StdBody, StdTime);
        Assert.Equal("missing-signature", result.Problem);
        Assert.Contains(header, result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-301, "past")]
    [InlineData(301, "future")]
    public void Standard_webhooks_timestamp_301_seconds_off_is_refused_and_says_which_way(int offset, string way)
    {
        var result = Verify(new StandardWebhooksScheme(), StdSecret, StdHeaders(StdSignature), StdBody, StdTime - offset);
        Assert.Equal("timestamp-out-of-tolerance", result.Problem);
        Assert.Contains(way, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Standard_webhooks_body_changed_by_one_byte_fails()
    {
        Assert.Equal("invalid-signature", Verify(new StandardWebhooksScheme(), StdSecret, StdHeaders(StdSignature), "{\"test\":2432232314}", StdTime).Problem);
    }

    [Theory]
    [InlineData("whsec_")]
    [InlineData("whsec_c2hvcnQ=")]
    [InlineData("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    [InlineData("whpk_c2hvcnQ=")]
    public void Standard_webhooks_malformed_secret_is_refused(string secret)
    {
        Assert.Null(new StandardWebhooksScheme().DecodeSecret(secret));
    }

    [Fact]
    public void Stripe_official_fixture_passes_byte_for_byte_and_fails_without_its_trailing_newline()
    {
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Webhooks", "Vectors", "stripe_event_test_signature.json"));
        var header = "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef";
        var headers = new HeaderDictionary { ["Stripe-Signature"] = header };

        Assert.True(Verify(new StripeScheme(), "webhook_secret", headers, body, 1533204620).Passed);
        Assert.Equal("invalid-signature", Verify(new StripeScheme(), "webhook_secret", headers, body[..^1], 1533204620).Problem);
    }

    [Fact]
    public void Stripe_derived_vector_passes_with_the_whsec_prefix_as_part_of_the_key()
    {
        var headers = new HeaderDictionary { ["Stripe-Signature"] = "t=1614265330,v1=f37376a318b83773050e9e3ac8c6d599d2254e4f69edd75a1419cb54dc7264f3" };
        Assert.True(Verify(new StripeScheme(), GitHubSecret, headers, GitHubBody, 1614265330).Passed);
    }

    [Theory]
    [InlineData("t=1614265330,v1=0000000000000000000000000000000000000000000000000000000000000000,v1=f37376a318b83773050e9e3ac8c6d599d2254e4f69edd75a1419cb54dc7264f3", null)]
    [InlineData("t=1614265330,v0=f37376a318b83773050e9e3ac8c6d599d2254e4f69edd75a1419cb54dc7264f3", "invalid-signature")]
    [InlineData("t=1614265330,v1=", "invalid-signature")]
    [InlineData("t=1614265330,v1=f37376a318b83773050e9e3ac8c6d599d2254e4f69edd75a1419cb54dc7264", "invalid-signature")]
    [InlineData("v1=f37376a318b83773050e9e3ac8c6d599d2254e4f69edd75a1419cb54dc7264f3", "invalid-signature")]
    [InlineData("t=abc,v1=f37376a318b83773050e9e3ac8c6d599d2254e4f69edd75a1419cb54dc7264f3", "invalid-signature")]
    public void Stripe_decoys_only_v1_counts_and_malformed_headers_fail(string header, string? problem)
    {
        var headers = new HeaderDictionary { ["Stripe-Signature"] = header };
        Assert.Equal(problem, Verify(new StripeScheme(), GitHubSecret, headers, GitHubBody, 1614265330).Problem);
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    public void Stripe_timestamp_301_seconds_off_is_refused(int offset)
    {
        var headers = new HeaderDictionary { ["Stripe-Signature"] = "t=1614265330,v1=f37376a318b83773050e9e3ac8c6d599d2254e4f69edd75a1419cb54dc7264f3" };
        Assert.Equal("timestamp-out-of-tolerance", Verify(new StripeScheme(), GitHubSecret, headers, GitHubBody, 1614265330 - offset).Problem);
    }

    [Fact]
    public void GitHub_documented_vector_passes_and_any_change_fails()
    {
        Assert.True(Verify(new GitHubScheme(), GitHubSecret, GitHub(GitHubSignature), GitHubBody, 0).Passed);
        Assert.Equal("invalid-signature", Verify(new GitHubScheme(), GitHubSecret, GitHub(GitHubSignature), "Hello, World?", 0).Problem);
        Assert.Equal("invalid-signature", Verify(new GitHubScheme(), "another secret", GitHub(GitHubSignature), GitHubBody, 0).Problem);
        Assert.Equal("invalid-signature", Verify(new GitHubScheme(), GitHubSecret, GitHub("sha256="), GitHubBody, 0).Problem);
        Assert.Equal("invalid-signature", Verify(new GitHubScheme(), GitHubSecret, GitHub(GitHubSignature[..^2]), GitHubBody, 0).Problem);
        Assert.Equal("invalid-signature", Verify(new GitHubScheme(), GitHubSecret, GitHub("sha1=757107ea0eb2509fc211221cce984b8a37570b6d"), GitHubBody, 0).Problem);
        Assert.Equal("missing-signature", Verify(new GitHubScheme(), GitHubSecret, new HeaderDictionary(), GitHubBody, 0).Problem);
    }

    [Fact]
    public void Shopify_vector_passes_and_any_change_fails()
    {
        Assert.True(Verify(new ShopifyScheme(), GitHubSecret, Shopify(ShopifySignature), GitHubBody, 0).Passed);
        Assert.Equal("invalid-signature", Verify(new ShopifyScheme(), GitHubSecret, Shopify(ShopifySignature), "Hello, World?", 0).Problem);
        Assert.Equal("invalid-signature", Verify(new ShopifyScheme(), GitHubSecret, Shopify(ShopifySignature[..^4]), GitHubBody, 0).Problem);
        Assert.Equal("missing-signature", Verify(new ShopifyScheme(), GitHubSecret, Shopify(""), GitHubBody, 0).Problem);
        Assert.Equal("missing-signature", Verify(new ShopifyScheme(), GitHubSecret, new HeaderDictionary(), GitHubBody, 0).Problem);
    }

    [Fact]
    public void Slack_signature_over_version_timestamp_and_body_passes_and_replays_fail()
    {
        // Slack's documented construction, computed independently here with .NET's HMAC over the concatenated string.
        const string secret = "8f742231b10e8888abcd99yyyzzz85a5";
        const string body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J";
        var mac = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"v0:1531420618:{body}")));
        var headers = new HeaderDictionary { ["X-Slack-Signature"] = "v0=" + mac, ["X-Slack-Request-Timestamp"] = "1531420618" };

        Assert.True(Verify(new SlackScheme(), secret, headers, body, 1531420618).Passed);
        Assert.Equal("timestamp-out-of-tolerance", Verify(new SlackScheme(), secret, headers, body, 1531420618 + 301).Problem);
        headers.Remove("X-Slack-Request-Timestamp");
        Assert.Equal("missing-signature", Verify(new SlackScheme(), secret, headers, body, 1531420618).Problem);
    }

    [Theory]
    [InlineData("sha256", "hex", "sha256=", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
    [InlineData("sha256", "base64", null, ShopifySignature)]
    public void Hmac_scheme_follows_its_configured_algorithm_encoding_and_prefix(string algorithm, string encoding, string? prefix, string value)
    {
        var settings = new SourceSettings(null, "X-Signature", algorithm, encoding, prefix);
        var scheme = new HmacScheme();
        var keys = new SourceKeys([scheme.DecodeSecret(GitHubSecret)!], settings);
        Assert.True(scheme.Verify(new HeaderDictionary { ["X-Signature"] = value }, Encoding.UTF8.GetBytes(GitHubBody), keys, 0).Passed);
        Assert.Equal("invalid-signature", scheme.Verify(new HeaderDictionary { ["X-Signature"] = value }, Encoding.UTF8.GetBytes("tampered"), keys, 0).Problem);
        Assert.Equal("missing-signature", scheme.Verify(new HeaderDictionary(), Encoding.UTF8.GetBytes(GitHubBody), keys, 0).Problem);
    }

    [Fact]
    public void Hmac_scheme_sha512_matches_an_independent_computation()
    {
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA512.HashData(Encoding.UTF8.GetBytes(GitHubSecret), Encoding.UTF8.GetBytes(GitHubBody)));
        var scheme = new HmacScheme();
        var keys = new SourceKeys([scheme.DecodeSecret(GitHubSecret)!], new SourceSettings(null, "X-Sig", "sha512", "hex", null));
        Assert.True(scheme.Verify(new HeaderDictionary { ["X-Sig"] = expected }, Encoding.UTF8.GetBytes(GitHubBody), keys, 0).Passed);
    }

    [Fact]
    public void Any_active_secret_may_match_so_rotation_overlaps()
    {
        var scheme = new GitHubScheme();
        var keys = new SourceKeys([scheme.DecodeSecret("new secret")!, scheme.DecodeSecret(GitHubSecret)!], new SourceSettings(null, null, null, null, null));
        Assert.True(scheme.Verify(GitHub(GitHubSignature), Encoding.UTF8.GetBytes(GitHubBody), keys, 0).Passed);
    }

    [Fact]
    public void A_header_sent_twice_is_not_a_signature()
    {
        var headers = new HeaderDictionary { ["X-Hub-Signature-256"] = new Microsoft.Extensions.Primitives.StringValues([GitHubSignature, GitHubSignature]) };
        Assert.Equal("missing-signature", Verify(new GitHubScheme(), GitHubSecret, headers, GitHubBody, 0).Problem);
    }

    private static HeaderDictionary StdHeaders(string signature) =>
        new() { ["webhook-id"] = StdId, ["webhook-timestamp"] = StdTime.ToString(System.Globalization.CultureInfo.InvariantCulture), ["webhook-signature"] = signature };

    private static HeaderDictionary GitHub(string signature) => new() { ["X-Hub-Signature-256"] = signature };

    private static HeaderDictionary Shopify(string signature) => new() { ["X-Shopify-Hmac-Sha256"] = signature };

    private static Verification Verify(SignatureScheme scheme, string secret, IHeaderDictionary headers, string body, long now) =>
        Verify(scheme, secret, headers, Encoding.UTF8.GetBytes(body), now);

    private static Verification Verify(SignatureScheme scheme, string secret, IHeaderDictionary headers, byte[] body, long now)
    {
        var key = scheme.DecodeSecret(secret);
        Assert.NotNull(key);
        return scheme.Verify(headers, body, new SourceKeys([key], new SourceSettings(null, "X-Signature", null, null, null)), now);
    }
}
