using System.Collections.Concurrent;
using Fabric.Contracts.Registry;
using Fabric.Gateway.Webhooks.Verification;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Customers;

/// <summary>
/// Every customer's configuration this gateway has needed, fetched once from the registry grain and then served from
/// memory, so verifying a webhook or an API key costs no grain call. <see cref="RegistryChangesPoller"/> drops a
/// customer when the registry announces a change; unknown customers are cached too (as null), so a flood of made-up
/// ids costs one registry read each.
/// </summary>
internal sealed partial class CustomerDirectory(
    IGrainFactory grains, SecretProtector secrets, IOptions<CustomerDirectoryOptions> options, TimeProvider time, ILogger<CustomerDirectory> logger)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _feedRead = time.GetTimestamp();

    /// <summary>The change feed was read just now: cached entries may be trusted for <see cref="CustomerDirectoryOptions.MaxAge"/>.</summary>
    public void FeedRead() => Interlocked.Exchange(ref _feedRead, time.GetTimestamp());

    /// <summary>The customer's configuration, or null when it is not registered. Throws when the cluster cannot answer.</summary>
    public async ValueTask<ResolvedCustomer?> GetAsync(string customer)
    {
        var now = time.GetTimestamp();
        if (_entries.TryGetValue(customer, out var entry) && time.GetElapsedTime(entry.Fetched, now) < MaxAge(now))
        {
            if (entry.Value.IsCompletedSuccessfully)
            {
                return entry.Value.Result;
            }
        }
        else
        {
            if (_entries.Count >= options.Value.MaxCustomers)
            {
                _entries.Clear();
            }

            var fresh = new Entry(now, FetchAsync(customer));
            entry = _entries.AddOrUpdate(customer, fresh, (_, old) => old == entry ? fresh : old);
        }

        try
        {
            return await entry.Value;
        }
        catch
        {
            // A failed read is not cached: the next request asks again.
            _entries.TryRemove(new KeyValuePair<string, Entry>(customer, entry));
            throw;
        }
    }

    /// <summary>
    /// How long a cached entry is trusted. While the change feed goes unread (failing or hanging polls: a silo lost, a
    /// partition) a change could go unseen, so entries then live two poll intervals, not minutes: a revoked key fails
    /// closed instead of staying valid.
    /// </summary>
    private TimeSpan MaxAge(long now)
    {
        var poll = options.Value.PollInterval;
        return time.GetElapsedTime(Interlocked.Read(ref _feedRead), now) <= poll * 3 ? options.Value.MaxAge : poll * 2;
    }

    /// <summary>Drops one customer, so the next request reads it afresh.</summary>
    public void Invalidate(string customer) => _entries.TryRemove(customer, out _);

    /// <summary>Drops everything (the change feed restarted and cannot say what changed).</summary>
    public void InvalidateAll() => _entries.Clear();

    private async Task<ResolvedCustomer?> FetchAsync(string customer)
    {
        var config = await grains.GetGrain<ICustomerRegistryGrain>(customer).GetConfig();
        return config is null ? null : Resolve(config);
    }

    private ResolvedCustomer Resolve(CustomerConfig config)
    {
        var sources = new Dictionary<string, ResolvedSource>(StringComparer.Ordinal);
        foreach (var (name, source) in config.Sources)
        {
            if (SignatureSchemes.Find(source.Scheme) is not { } scheme)
            {
                continue;
            }

            var keys = new List<byte[]>(source.ProtectedSecrets.Count);
            foreach (var protectedSecret in source.ProtectedSecrets)
            {
                try
                {
                    if (scheme.DecodeSecret(secrets.Unprotect(protectedSecret)) is { } key)
                    {
                        keys.Add(key);
                    }
                }
                catch (System.Security.Cryptography.CryptographicException ex)
                {
                    // A key ring that lost the key (or a ring not shared between gateways): the source fails closed.
                    Log.SecretUnreadable(logger, ex, config.Id, name);
                }
            }

            var settings = new SourceSettings(source.ToleranceSeconds, source.Header, source.Algorithm, source.Encoding, source.Prefix);
            sources[name] = new ResolvedSource(name, scheme, new SourceKeys(keys, settings));
        }

        var signingKeys = new Dictionary<string, Microsoft.IdentityModel.Tokens.SymmetricSecurityKey>(StringComparer.Ordinal);
        foreach (var (id, key) in config.SigningKeys ?? new Dictionary<string, SigningKeyRecord>())
        {
            try
            {
                // The HMAC key is the secret string's UTF-8 bytes, as a customer's own JWT library takes it.
                signingKeys[id] = new(System.Text.Encoding.UTF8.GetBytes(secrets.Unprotect(key.ProtectedSecret))) { KeyId = id };
            }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                Log.SigningKeyUnreadable(logger, ex, config.Id, id);
            }
        }

        return new ResolvedCustomer(config, sources, signingKeys);
    }

    private sealed record Entry(long Fetched, Task<ResolvedCustomer?> Value);

    private static partial class Log
    {
        [LoggerMessage(700, LogLevel.Error, "A secret of source {Source} of customer {Customer} cannot be decrypted with this gateway's Data Protection keys; the source rejects every delivery until it is re-entered")]
        public static partial void SecretUnreadable(ILogger logger, Exception exception, string customer, string source);

        [LoggerMessage(701, LogLevel.Error, "Signing key {Key} of customer {Customer} cannot be decrypted with this gateway's Data Protection keys; tokens it signed are refused until a new key is made")]
        public static partial void SigningKeyUnreadable(ILogger logger, Exception exception, string customer, string key);
    }
}
