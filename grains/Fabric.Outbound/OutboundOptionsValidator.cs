using Microsoft.Extensions.Options;

namespace Fabric.Outbound;

[OptionsValidator]
internal sealed partial class OutboundOptionsValidator : IValidateOptions<OutboundOptions>;
