using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Sockets;

/// <summary>Checks <see cref="SocketOptions"/> at start-up (source-generated from its data annotations).</summary>
[OptionsValidator]
public sealed partial class SocketOptionsValidator : IValidateOptions<SocketOptions>;
