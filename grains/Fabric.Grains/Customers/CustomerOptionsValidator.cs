using Microsoft.Extensions.Options;

namespace Fabric.Grains.Customers;

/// <summary>Checks <see cref="CustomerOptions"/> at start-up (source-generated from its data annotations).</summary>
[OptionsValidator]
public sealed partial class CustomerOptionsValidator : IValidateOptions<CustomerOptions>;
