using System.ComponentModel.DataAnnotations;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Each entry is <c>*</c> or an origin, <c>http(s)://host[:port]</c> with no path: a host without its scheme would
/// match no browser's <c>Origin</c> and silently refuse every page.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class OriginListAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        foreach (var entry in value as IEnumerable<string> ?? [])
        {
            if (entry != AllowedOrigins.Any && !IsOrigin(entry))
            {
                return new ValidationResult($"'{entry}' is not an origin: expected * or http(s)://host[:port] with no path.", [validationContext.MemberName!]);
            }
        }

        return ValidationResult.Success;
    }

    private static bool IsOrigin(string? entry) =>
        Uri.TryCreate(entry?.TrimEnd('/'), UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0;
}
