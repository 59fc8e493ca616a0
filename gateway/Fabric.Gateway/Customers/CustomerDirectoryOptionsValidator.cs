using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Customers;

/// <summary>Checks <see cref="CustomerDirectoryOptions"/> at start-up (source-generated from its data annotations).</summary>
[OptionsValidator]
public sealed partial class CustomerDirectoryOptionsValidator : IValidateOptions<CustomerDirectoryOptions>;
