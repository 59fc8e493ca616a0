using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Hosting;

/// <summary>Checks <see cref="HttpLimitOptions"/> at start-up (source-generated from its data annotations).</summary>
[OptionsValidator]
public sealed partial class HttpLimitOptionsValidator : IValidateOptions<HttpLimitOptions>;
