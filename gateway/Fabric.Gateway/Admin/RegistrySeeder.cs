using Fabric.Contracts.Registry;
using Fabric.Gateway.Auth;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Admin;

/// <summary>
/// Registers <c>Fabric:Seed</c> in embedded mode before the gateway serves (hosted services start in order, after the
/// co-hosted silo). A seed that breaks the admin API's rules stops the start with the reason.
/// </summary>
internal sealed partial class RegistrySeeder(
    IGrainFactory grains, SecretProtector protector, IOptions<SeedOptions> options, TimeProvider time, ILogger<RegistrySeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (customer, seed) in options.Value.Customers)
        {
            if (!InputRules.IsValidId(customer))
            {
                throw new InvalidOperationException($"Fabric:Seed:Customers: '{customer}' is not a valid customer id.");
            }

            // Checked before anything of this customer is registered, so a refused seed leaves nothing half written.
            if (seed.Sources.Keys.FirstOrDefault(SourceRules.IsReserved) is { } reserved)
            {
                throw new InvalidOperationException(
                    $"Fabric:Seed:Customers:{customer}:Sources:{reserved}: the source name is reserved for Fabric's own events ({string.Join(", ", SourceRules.ReservedNames)}).");
            }

            var registry = grains.GetGrain<ICustomerRegistryGrain>(customer);
            await registry.Put(seed.Name);
            foreach (var (name, source) in seed.Sources)
            {
                var body = new SourcePutRequest(source.Scheme, source.Secrets, source.ToleranceSeconds, source.Header, source.Algorithm, source.Encoding, source.Prefix);
                if (!InputRules.IsValidId(name) || SourceRules.Check(body) is not null)
                {
                    throw new InvalidOperationException($"Fabric:Seed:Customers:{customer}:Sources:{name} is not a valid source (check its scheme and secrets).");
                }

                await registry.PutSource(new SourceConfig(
                    name, source.Scheme!, [.. source.Secrets.Select(protector.Protect)], source.ToleranceSeconds,
                    source.Header, source.Algorithm, source.Encoding, source.Prefix, time.GetUtcNow()));
            }

            foreach (var key in seed.Keys)
            {
                if (!ApiKeys.TryParse(key.Key, out var owner, out var id) || owner != customer || key.Scopes.Any(s => !ApiKeys.Scopes.Contains(s)))
                {
                    throw new InvalidOperationException($"A key of Fabric:Seed:Customers:{customer} is not fab~{customer}~key_<id>~<secret> with known scopes.");
                }

                await registry.AddKey(new ApiKeyRecord(id, key.Scopes, ApiKeys.Hash(key.Key), time.GetUtcNow()));
            }

            foreach (var key in seed.SigningKeys)
            {
                if (!SigningKeys.IsValidId(key.Id) || key.Secret.Length < SigningKeys.MinSecretLength)
                {
                    throw new InvalidOperationException($"A signing key of Fabric:Seed:Customers:{customer} needs an id sk_<letters or digits> and a secret of at least {SigningKeys.MinSecretLength} characters.");
                }

                await registry.AddSigningKey(new SigningKeyRecord(key.Id, protector.Protect(key.Secret), time.GetUtcNow()));
            }

            Log.Seeded(logger, customer, seed.Sources.Count, seed.Keys.Count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(800, LogLevel.Information, "Seeded customer {Customer} with {Sources} source(s) and {Keys} key(s)")]
        public static partial void Seeded(ILogger logger, string customer, int sources, int keys);
    }
}
