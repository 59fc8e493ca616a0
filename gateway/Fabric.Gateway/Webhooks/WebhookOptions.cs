using System.ComponentModel.DataAnnotations;

namespace Fabric.Gateway.Webhooks;

/// <summary>Limits of the ingest endpoints. Bound from <c>Fabric:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Fabric:Webhooks";

    /// <summary>
    /// Largest accepted body, for webhooks and the publish API alike. Default 1 MiB (1,048,576 bytes); at most 16 MiB,
    /// so that an event always fits in one Orleans message beside a full page (see <c>FabricMessaging</c>).
    /// </summary>
    [Range(1, Contracts.FabricMessaging.MaxEventBytes)]
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The event type used when neither a header nor the body's <c>type</c> names one. Default <c>webhook</c>.</summary>
    [Required]
    public string DefaultEventType { get; set; } = "webhook";
}
