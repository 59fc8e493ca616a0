using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Webhooks;

/// <summary>Checks <see cref="WebhookOptions"/> at start-up (source-generated from its data annotations).</summary>
[OptionsValidator]
public sealed partial class WebhookOptionsValidator : IValidateOptions<WebhookOptions>;
