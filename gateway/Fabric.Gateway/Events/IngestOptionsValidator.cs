using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Events;

/// <summary>Checks <see cref="IngestOptions"/> at start-up (source-generated from its data annotations).</summary>
[OptionsValidator]
public sealed partial class IngestOptionsValidator : IValidateOptions<IngestOptions>;
