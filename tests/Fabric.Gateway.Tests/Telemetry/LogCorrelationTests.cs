using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace Fabric.Gateway.Tests.Telemetry;

/// <summary>A log line written while a request is served carries that request's trace and span ids, so logs and traces meet.</summary>
public sealed class LogCorrelationTests
{
    [Fact]
    public async Task Log_lines_written_under_a_request_carry_its_trace_id()
    {
        var logs = new ScopeCapturingProvider();
        // The configured levels (Information by default) win over SetMinimumLevel: the refusal is a Debug line.
        await using var gateway = await TestGateway.StartAsync(new() { ["Logging:LogLevel:Fabric"] = "Debug" }, builder => builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var customer = await gateway.NewCustomerAsync();
        var traceId = ActivityTraceId.CreateRandom();

        // A socket refused before its upgrade: the gateway logs why (at Debug), under the request's span.
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("fabric.v1");
        socket.Options.SetRequestHeader("Authorization", "Bearer not-a-key");
        socket.Options.SetRequestHeader("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://{gateway.Http.BaseAddress!.Authority}/v1/ws?customer={customer}"), CancellationToken.None));

        await Eventually.True(() => logs.Lines.Any(l => l.Category == typeof(Sockets.Auth.SocketAuthenticator).FullName && l.TraceId == traceId.ToHexString()));
        Assert.All(logs.Lines.Where(l => l.TraceId == traceId.ToHexString()), l => Assert.False(string.IsNullOrEmpty(l.SpanId)));
    }

    private sealed record Line(string Category, string Message, string? TraceId, string? SpanId);

    /// <summary>Records each line with the TraceId and SpanId of the scopes it was written under (the host's activity tracking).</summary>
    private sealed class ScopeCapturingProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider? _scopes;

        public ConcurrentQueue<Line> Lines { get; } = new();

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCapturingProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                string? traceId = null, spanId = null;
                owner._scopes?.ForEachScope((scope, _) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> values)
                    {
                        foreach (var (key, value) in values)
                        {
                            if (key == "TraceId")
                            {
                                traceId = value?.ToString();
                            }
                            else if (key == "SpanId")
                            {
                                spanId = value?.ToString();
                            }
                        }
                    }
                }, (object?)null);
                owner.Lines.Enqueue(new Line(category, formatter(state, exception), traceId, spanId));
            }
        }
    }
}
