using Microsoft.AspNetCore.DataProtection;

namespace Fabric.Gateway.Customers;

/// <summary>
/// Encrypts sources' signing secrets before they leave the gateway for grain state, and decrypts them into the
/// gateway's cache (ASP.NET Core Data Protection; its key ring is in Redis in distributed mode, so every gateway reads
/// what any gateway wrote).
/// </summary>
internal sealed class SecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Fabric.SourceSecrets.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
