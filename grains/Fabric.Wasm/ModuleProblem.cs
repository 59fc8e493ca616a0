namespace Fabric.Wasm;

/// <summary>Why a module was refused at upload: a problem code for the admin API and a detail safe to show its owner.</summary>
/// <param name="Code">
/// <c>module-too-large</c>, <c>invalid-module</c>, <c>module-imports</c>, <c>module-exports</c>, <c>invalid-config</c> or
/// <c>transform-init-failed</c>.
/// </param>
/// <param name="Detail">What is wrong, naming the import, export or limit.</param>
public sealed record ModuleProblem(string Code, string Detail)
{
    /// <summary>Refused as a module (the bytes): 400; the rest (its init) 422.</summary>
    public bool IsUnprocessable => Code == "transform-init-failed";
}
