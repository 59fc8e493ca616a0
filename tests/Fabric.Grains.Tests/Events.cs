using System.Text;
using Fabric.Contracts;

namespace Fabric.Grains.Tests;

internal static class Events
{
    public static string NewCustomer() => "c-" + Guid.NewGuid().ToString("N")[..12];

    public static IncomingEvent Make(string type = "test.happened", string? key = null, string source = "test", string json = "{\"n\":1}") =>
        new(source, type, "application/json", Encoding.UTF8.GetBytes(json), key, TraceParent: null);
}
