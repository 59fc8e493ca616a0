using System.Diagnostics.Metrics;

namespace Fabric.Tests;

/// <summary>Listens to one of Fabric's counters while a test runs, so the test can say the path it meant was taken.</summary>
internal static class Counters
{
    /// <summary>Calls <paramref name="record"/> with every measurement of the counter named <paramref name="instrumentName"/>.</summary>
    public static MeterListener Listen(string instrumentName, Action<long> record)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == instrumentName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => record(value));
        listener.Start();
        return listener;
    }
}
