using Microsoft.Extensions.Options;

namespace Fabric.Rules.Outbound;

[OptionsValidator]
internal sealed partial class OutboundOptionsValidator : IValidateOptions<OutboundOptions>;
