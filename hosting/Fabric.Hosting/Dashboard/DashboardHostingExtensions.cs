using System.Net.Http.Headers;
using System.Text;
using Fabric.Hosting.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Dashboard;

namespace Fabric.Hosting.Dashboard;

/// <summary>
/// The Orleans Dashboard (Microsoft.Orleans.Dashboard): grains, silos, call rates and latencies, reminders. Every silo
/// collects (<see cref="AddFabricDashboard"/>); the process that serves HTTP for operators maps the UI behind the
/// admin key (<see cref="MapFabricDashboard"/>).
/// </summary>
public static class DashboardHostingExtensions
{
    public static ISiloBuilder AddFabricDashboard(this ISiloBuilder silo, IConfiguration configuration)
    {
        if (Read(configuration).Enabled)
        {
            silo.AddDashboard();
            silo.Services.AddSingleton<HostsDashboard>();
        }

        return silo;
    }

    /// <summary>
    /// The dashboard behind any admin key, on a process that hosts a silo (a distributed gateway, an Orleans client,
    /// has none: operators open it on a silo): <c>Authorization: Bearer &lt;key&gt;</c>, or HTTP Basic with the key as the
    /// password (any user name), which is what a browser can send: it asks for it on the first 401.
    /// </summary>
    public static WebApplication MapFabricDashboard(this WebApplication app)
    {
        var options = Read(app.Configuration);
        if (app.Services.GetService<HostsDashboard>() is not null)
        {
            var keys = app.Services.GetRequiredService<AdminKeys>();
            app.MapOrleansDashboard(options.Path).AddEndpointFilter(async (context, next) =>
                Presented(context.HttpContext.Request) is { } key && keys.Matches(key)
                    ? await next(context)
                    : Challenge(context.HttpContext));
        }

        return app;
    }

    /// <summary>Registered with the dashboard on a silo: this process has it to serve.</summary>
    private sealed class HostsDashboard;

    private static FabricDashboardOptions Read(IConfiguration configuration) =>
        configuration.GetSection(FabricDashboardOptions.SectionName).Get<FabricDashboardOptions>() ?? new FabricDashboardOptions();

    private static string? Presented(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header) || header.Parameter is not { Length: > 0 } value)
        {
            return null;
        }

        if (header.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return value;
        }

        if (!header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var bytes = new byte[value.Length];
        if (!Convert.TryFromBase64String(value, bytes, out var written))
        {
            return null;
        }

        var pair = Encoding.UTF8.GetString(bytes, 0, written);
        return pair.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 ? pair[(colon + 1)..] : null;
    }

    private static IResult Challenge(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"Fabric dashboard\", charset=\"UTF-8\"";
        return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "An admin key is required.",
            detail: "Send Authorization: Bearer <admin key>, or sign in with the admin key as the password.",
            type: "https://fabric.dev/problems/unauthorized");
    }
}
