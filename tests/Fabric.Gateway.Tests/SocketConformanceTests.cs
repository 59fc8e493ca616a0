using System.Text.Json;
using Fabric.Gateway.Tests.Webhooks;

namespace Fabric.Gateway.Tests;

/// <summary>
/// Fabric's socket framing (ManagedWebSocket over the coalescing stream) against a client nobody here wrote: npm `ws`
/// (tests/signers/ws-client.mjs).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class SocketConformanceTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("fabric.v1")]
    [InlineData("fabric.v1.batch")]
    public async Task An_independent_ws_client_gets_fragments_pings_a_burst_and_a_close_handshake_right(string protocol)
    {
        var customer = await fixture.NewCustomerAsync();
        const int count = 300;

        var (code, stdout, stderr) = await Signers.RunScriptAsync("ws-client.mjs", fixture.BaseAddress.ToString().TrimEnd('/'), customer, GatewayFixture.TestSource, count.ToString(System.Globalization.CultureInfo.InvariantCulture), GatewayFixture.AdminKey, protocol);

        Assert.True(code == 0, $"ws-client.mjs failed: {stdout} {stderr}");
        var seen = JsonDocument.Parse(stdout).RootElement;
        Assert.Empty(seen.GetProperty("errors").EnumerateArray());
        Assert.Equal(protocol, seen.GetProperty("protocol").GetString());
        Assert.True(seen.GetProperty("welcome").GetBoolean());
        // The subscribe arrived whole although it came in three fragments with a ping between them.
        Assert.True(seen.GetProperty("subscribed").GetBoolean());
        var seqs = seen.GetProperty("seqs").EnumerateArray().Select(s => s.GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
        Assert.True(seqs.Count >= count);
        // Every ping answered, the ones sent while bursts were queued included.
        Assert.Equal(seen.GetProperty("pings").GetInt32(), seen.GetProperty("pongs").GetInt32());
        // The client's close under load was answered with the same code.
        Assert.Equal(1000, seen.GetProperty("close").GetProperty("code").GetInt32());
    }
}
