using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Fabric.Gateway.Tests.Wasm;

/// <summary>
/// A module cannot hurt the gateway or another customer: modules that loop, grow memory past the limit, return too much
/// or nonsense, or trap are handled by their attachment's policy; modules that import anything but fabric.log, are not
/// WebAssembly, are too large or refuse their config are refused at upload and change nothing.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class SandboxTests(GatewayFixture fixture)
{
    public static TheoryData<string, string> Misbehaving => new()
    {
        { nameof(Modules.Spin), "fuel" },
        { nameof(Modules.Grow), "trap" },
        { nameof(Modules.Huge), "output" },
        { nameof(Modules.Negative), "result" },
        { nameof(Modules.Trap), "trap" },
    };

    private static byte[] Module(string name) => (byte[])typeof(Modules).GetProperty(name)!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(Misbehaving))]
    public async Task Keep_policy_stores_the_event_unchanged_marked_with_the_error_and_the_gateway_keeps_serving(string module, string kind)
    {
        var customer = await fixture.NewCustomerAsync();
        var bystander = await fixture.NewCustomerAsync();
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Module(module));

        for (var i = 0; i < 3; i++)
        {
            var response = await fixture.PostWebhookAsync(customer, $$"""{"type":"t","n":{{i}},"card":"4242"}""");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await fixture.PostWebhookAsync(bystander, """{"type":"t"}""")).StatusCode);
        }

        var kept = await fixture.Http.HistoryAsync(customer);
        Assert.Equal(3, kept.Count);
        Assert.All(kept, e => Assert.Equal(kind, e.GetProperty("transformError").GetString()));
        Assert.Equal(2, kept[2].GetProperty("data").GetProperty("n").GetInt32());
        Assert.All(await fixture.Http.HistoryAsync(bystander), e => Assert.False(e.TryGetProperty("transformError", out _)));

        // Every error is counted and readable with its message — never the payload.
        var view = await fixture.Http.GetFromJsonAsync<JsonElement>(TransformKit.SourcePath(customer));
        Assert.Equal(3, view.GetProperty("counters").GetProperty("errors").GetInt64());
        var errors = view.GetProperty("recentErrors").EnumerateArray().ToList();
        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.Equal(kind, e.GetProperty("kind").GetString()));
        Assert.All(errors, e => Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("message").GetString())));
        Assert.Equal(kept[2].GetProperty("id").GetString(), errors[0].GetProperty("eventId").GetString());
        Assert.DoesNotContain("4242", view.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drop_policy_drops_and_reject_policy_answers_422_storing_nothing()
    {
        var customer = await fixture.NewCustomerAsync();
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.Trap, onError: "drop");
        var dropped = await fixture.PostWebhookAsync(customer, """{"type":"t"}""");
        Assert.True((await dropped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dropped").GetBoolean());

        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.Spin, onError: "reject");
        Assert.Equal("transform-rejected", await TransformKit.ProblemAsync(await fixture.PostWebhookAsync(customer, """{"type":"t"}"""), HttpStatusCode.UnprocessableEntity));
        Assert.Empty(await fixture.Http.HistoryAsync(customer));

        Assert.Equal("invalid-on-error", await TransformKit.ProblemAsync(await TransformKit.PutAsync(fixture.Http, TransformKit.SourcePath(customer), Modules.Keep, onError: "ignore"), HttpStatusCode.BadRequest));
    }

    public static TheoryData<string, string, HttpStatusCode> Refused => new()
    {
        { nameof(Modules.ImportsWasi), "module-imports", HttpStatusCode.BadRequest },
        { nameof(Modules.ImportsOther), "module-imports", HttpStatusCode.BadRequest },
        { nameof(Modules.Malformed), "invalid-module", HttpStatusCode.BadRequest },
        { "NoHandle", "module-exports", HttpStatusCode.BadRequest },
        { "RefusesConfig", "transform-init-failed", HttpStatusCode.UnprocessableEntity },
        { "TrapsInInit", "transform-init-failed", HttpStatusCode.UnprocessableEntity },
    };

    private static byte[] RefusedModule(string name) => name switch
    {
        "NoHandle" => Modules.FromText("""(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) (i32.const 0)))"""),
        "RefusesConfig" => Modules.With("(i64.const 1)", """(func (export "init") (param i32 i32) (result i32) (i32.const -3))"""),
        "TrapsInInit" => Modules.With("(i64.const 1)", """(func (export "init") (param i32 i32) (loop $l (br $l)))"""),
        _ => Module(name),
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_module_that_breaks_the_ABI_is_refused_at_upload_and_the_one_before_stays(string module, string problem, HttpStatusCode status)
    {
        var customer = await fixture.NewCustomerAsync();
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.Returning("""{"type":"still.old"}"""));

        var response = await TransformKit.PutAsync(fixture.Http, TransformKit.SourcePath(customer), RefusedModule(module));
        Assert.Equal(problem, await TransformKit.ProblemAsync(response, status));

        await fixture.PostWebhookAsync(customer, """{"type":"t"}""");
        Assert.Equal("still.old", Assert.Single(await fixture.Http.HistoryAsync(customer)).Type());
    }

    [Fact]
    public async Task A_module_over_the_size_limit_is_refused_with_413_in_either_form()
    {
        var customer = await fixture.NewCustomerAsync();
        var big = new byte[(1024 * 1024) + 1];
        Assert.Equal("module-too-large", await TransformKit.ProblemAsync(await TransformKit.PutAsync(fixture.Http, TransformKit.SourcePath(customer), big), HttpStatusCode.RequestEntityTooLarge));
        Assert.Equal("module-too-large", await TransformKit.ProblemAsync(await TransformKit.PutAsync(fixture.Http, TransformKit.SourcePath(customer), big, onError: "drop"), HttpStatusCode.RequestEntityTooLarge));
        Assert.Equal("invalid-config", await TransformKit.ProblemAsync(await fixture.Http.PutAsync(TransformKit.SourcePath(customer), SessionAsserts.Json($$"""{"module":"{{Convert.ToBase64String(Modules.Keep)}}","config":[1]}""")), HttpStatusCode.BadRequest));
        Assert.Equal("invalid-module", await TransformKit.ProblemAsync(await fixture.Http.PutAsync(TransformKit.SourcePath(customer), SessionAsserts.Json("""{"module":"not base64!"}""")), HttpStatusCode.BadRequest));
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync(TransformKit.SourcePath(customer))).StatusCode);
    }
}
