using System.Text.Json;
using Fabric.Hosting.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Fabric.Hosting.Health;

/// <summary>
/// The two probes every Fabric process serves (ASP.NET Core health checks): <c>GET /healthz</c>, alive (the process
/// answers HTTP; runs no check, so a slow cluster never gets a healthy process restarted), and <c>GET /readyz</c>,
/// ready for traffic: every check tagged <see cref="Ready"/> passes (the cluster, Redis in distributed mode, not
/// draining). Load balancers and orchestrators route on <c>/readyz</c> and restart on <c>/healthz</c>.
/// </summary>
public static class HealthHostingExtensions
{
    /// <summary>The tag of the checks <c>/readyz</c> runs.</summary>
    public const string Ready = "ready";

    /// <summary>The checks both processes have: not draining, and Redis answering in distributed mode.</summary>
    public static IHealthChecksBuilder AddFabricHealth(this IHostApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks().AddCheck<DrainingHealthCheck>("draining", tags: [Ready]);
        if (FabricMode.IsDistributed(builder.Configuration))
        {
            builder.Services.AddSingleton<RedisHealthCheck>();
            checks.AddCheck<RedisHealthCheck>("redis", tags: [Ready]);
        }

        return checks;
    }

    public static WebApplication MapFabricProbes(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, AllowCachingResponses = false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Ready),
            AllowCachingResponses = false,
            ResponseWriter = WriteAsync,
        });
        return app;
    }

    /// <summary>Each check's status and description, never an exception's text (it may name hosts or hold a password).</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                json.WriteString("description", entry.Description);
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return context.Response.Body.WriteAsync(buffer.ToArray()).AsTask();
    }
}
