using Microsoft.Extensions.Options;

namespace Fabric.Rules.Wasm;

/// <summary>Checks the ranges on <see cref="WasmOptions"/> at startup (source-generated).</summary>
[OptionsValidator]
public sealed partial class WasmOptionsValidator : IValidateOptions<WasmOptions>;
