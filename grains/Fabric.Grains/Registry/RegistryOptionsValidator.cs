using Microsoft.Extensions.Options;

namespace Fabric.Grains.Registry;

/// <summary>Checks <see cref="RegistryOptions"/> at start-up (source-generated from its data annotations).</summary>
[OptionsValidator]
public sealed partial class RegistryOptionsValidator : IValidateOptions<RegistryOptions>;
