using System.Buffers;

namespace Fabric.Gateway.Http;

/// <summary>What a customer id, source, event type, topic and idempotency key may look like.</summary>
internal static class InputRules
{
    public const int MaxIdLength = 64;
    public const int MaxTypeLength = Fabric.Contracts.EventNames.MaxTypeLength;
    public const int MaxKeyLength = 256;

    /// <summary>
    /// The largest seq a client may name (<c>since</c>, <c>after</c>): 2^53 − 1, the largest integer JavaScript holds
    /// exactly. Larger numbers are refused rather than overflowing <c>seq + 1</c>.
    /// </summary>
    public const long MaxSeq = 9_007_199_254_740_991;

    /// <summary>The rule for ids, as error messages state it.</summary>
    public const string IdRule = "1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit";

    private static readonly SearchValues<char> IdChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    /// <summary>Customer ids and source names: 1–64 of <c>[A-Za-z0-9._-]</c>, starting with a letter or digit.</summary>
    public static bool IsValidId(string? value) =>
        value is { Length: > 0 and <= MaxIdLength } && char.IsAsciiLetterOrDigit(value[0]) && !value.AsSpan().ContainsAnyExcept(IdChars);

    /// <summary>Event types: 1–200 printable ASCII characters without spaces or <c>*</c> (reserved for topics).</summary>
    public static bool IsValidType(string? value) => Fabric.Contracts.EventNames.IsValidType(value);

    /// <summary>Idempotency keys: 1–256 printable ASCII characters without spaces.</summary>
    public static bool IsValidKey(string? value) => value is { Length: > 0 and <= MaxKeyLength } && IsPrintableAscii(value);

    private static bool IsPrintableAscii(string value)
    {
        foreach (var c in value)
        {
            if (c is <= ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}
