namespace Fabric.Gateway.Embedded;

public static class Program
{
    public static Task Main(string[] args) => Create(args).RunAsync();

    /// <summary>The gateway of <see cref="Gateway.Program.Create"/> over a co-hosted silo; tests call this with their own configuration.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null) =>
        Gateway.Program.Create(args, builder =>
        {
            configure?.Invoke(builder);
            builder.AddFabricEmbeddedSilo();
        });
}
