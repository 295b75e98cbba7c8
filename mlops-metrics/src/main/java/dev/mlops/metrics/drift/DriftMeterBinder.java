package dev.mlops.metrics.drift;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * Publishes a {@link DriftMonitor}'s measures as Micrometer gauges, and its alarms as a counter.
 * Kept apart from the monitor so that the monitor needs no Micrometer on the class path.
 *
 * <pre>{@code
 * DriftMeterBinder.of(driftMonitor).bindTo(meterRegistry);
 * }</pre>
 *
 * <table>
 *   <caption>Meters, each tagged {@code model}, {@code version}, {@code feature}</caption>
 *   <tr><th>name</th><th>type</th><th>value</th></tr>
 *   <tr><td>{@value #PSI}</td><td>Gauge</td><td>{@link DriftStats#psi()}</td></tr>
 *   <tr><td>{@value #KS}</td><td>Gauge</td><td>{@link DriftStats#ksStatistic()}</td></tr>
 *   <tr><td>{@value #NAN_RATE}</td><td>Gauge</td><td>{@link DriftStats#nanRate()}</td></tr>
 *   <tr><td>{@value #OUT_OF_RANGE_RATE}</td><td>Gauge</td><td>{@link DriftStats#outOfRangeRate()}</td></tr>
 *   <tr><td>{@value #QUANTILE}</td><td>Gauge, also tagged {@code quantile} = 0.05, 0.5, 0.95</td>
 *       <td>{@link DriftStats#p05()}, {@link DriftStats#p50()}, {@link DriftStats#p95()}</td></tr>
 *   <tr><td>{@value #ALARMS}</td><td>Counter, also tagged {@code metric} (a {@link DriftMetric#tag()})</td>
 *       <td>alarms raised</td></tr>
 * </table>
 *
 * <p>Gauges read the latest evaluation (NaN before the first) and cost nothing between evaluations.
 * They appear when a version starts being monitored and are removed from the registry when the
 * monitor drops the version. Bind once; binding again to the same registry does nothing.
 * Thread-safe.
 */
public final class DriftMeterBinder implements MeterBinder {

  /** Gauge of the population stability index. */
  public static final String PSI = "mlops.drift.psi";

  /** Gauge of the Kolmogorov–Smirnov statistic. */
  public static final String KS = "mlops.drift.ks";

  /** Gauge of the NaN rate. */
  public static final String NAN_RATE = "mlops.drift.nan.rate";

  /** Gauge of the out-of-range rate. */
  public static final String OUT_OF_RANGE_RATE = "mlops.drift.out.of.range.rate";

  /** Gauges of window quantiles. */
  public static final String QUANTILE = "mlops.drift.quantile";

  /** Counter of raised alarms. */
  public static final String ALARMS = "mlops.drift.alarms";

  private final DriftMonitor monitor;
  private final Object lock = new Object();
  private MeterRegistry registry;
  private final Map<MonitoredVersion, List<Meter>> meters = new ConcurrentHashMap<>();

  private DriftMeterBinder(DriftMonitor monitor) {
    this.monitor = monitor;
  }

  /**
   * A binder for this monitor.
   *
   * @param monitor the monitor whose measures to publish
   * @return a new, unbound binder
   */
  public static DriftMeterBinder of(DriftMonitor monitor) {
    return new DriftMeterBinder(Objects.requireNonNull(monitor, "monitor"));
  }

  /**
   * Registers the gauges of every monitored version, and of every version monitored later.
   *
   * @param registry the registry
   * @throws IllegalStateException if already bound to another registry
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    synchronized (lock) {
      if (this.registry != null) {
        if (this.registry == registry) {
          return;
        }
        throw new IllegalStateException(
            "this DriftMeterBinder is already bound to "
                + this.registry
                + "; bind it once, to a CompositeMeterRegistry");
      }
      this.registry = registry;
      monitor.addHooks(
          new DriftMonitor.Hooks() {
            @Override
            public void added(MonitoredVersion m) {
              register(m);
            }

            @Override
            public void removed(MonitoredVersion m) {
              unregister(m);
            }

            @Override
            public void alarmed(DriftAlarm alarm) {
              if (alarm.state() == DriftAlarm.State.RAISED) {
                Counter.builder(ALARMS)
                    .description("Drift alarms raised")
                    .tags(tags(alarm.model(), alarm.version(), alarm.feature()))
                    .tag("metric", alarm.metric().tag())
                    .register(registry)
                    .increment();
              }
            }
          });
      for (MonitoredVersion m : monitor.sortedVersions()) {
        register(m);
      }
    }
  }

  private void register(MonitoredVersion m) {
    List<Meter> list = new ArrayList<>();
    synchronized (lock) {
      if (meters.containsKey(m)) {
        return;
      }
      for (int c = 0; c < m.columns; c++) {
        Tags tags = tags(m.model, m.version, m.columnNames.get(c));
        list.add(
            gauge(
                PSI,
                "Population stability index of the feature against its baseline",
                m,
                c,
                tags,
                DriftStats::psi));
        list.add(
            gauge(
                KS,
                "Kolmogorov-Smirnov statistic of the feature against its baseline",
                m,
                c,
                tags,
                DriftStats::ksStatistic));
        list.add(
            gauge(
                NAN_RATE,
                "Fraction of NaN values in the feature's window",
                m,
                c,
                tags,
                DriftStats::nanRate));
        list.add(
            gauge(
                OUT_OF_RANGE_RATE,
                "Fraction of the feature's window outside the baseline range",
                m,
                c,
                tags,
                DriftStats::outOfRangeRate));
        list.add(
            gauge(
                QUANTILE,
                "Quantile of the feature's window",
                m,
                c,
                tags.and("quantile", "0.05"),
                DriftStats::p05));
        list.add(
            gauge(
                QUANTILE,
                "Quantile of the feature's window",
                m,
                c,
                tags.and("quantile", "0.5"),
                DriftStats::p50));
        list.add(
            gauge(
                QUANTILE,
                "Quantile of the feature's window",
                m,
                c,
                tags.and("quantile", "0.95"),
                DriftStats::p95));
      }
      meters.put(m, list);
    }
  }

  private void unregister(MonitoredVersion m) {
    List<Meter> list = meters.remove(m);
    if (list != null) {
      for (Meter meter : list) {
        registry.remove(meter);
      }
    }
  }

  private Meter gauge(
      String name,
      String description,
      MonitoredVersion m,
      int column,
      Tags tags,
      ToDoubleFunction<DriftStats> value) {
    return Gauge.builder(
            name,
            m,
            v -> {
              DriftStats s = v.lastByColumn[column];
              return s == null ? Double.NaN : value.applyAsDouble(s);
            })
        .description(description)
        .tags(tags)
        .strongReference(true)
        .register(registry);
  }

  private static Tags tags(String model, long version, String feature) {
    return Tags.of("model", model, "version", Long.toString(version), "feature", feature);
  }

  /** Names the monitor and whether it is bound. */
  @Override
  public String toString() {
    synchronized (lock) {
      return "DriftMeterBinder[" + monitor + (registry == null ? ", unbound" : ", bound") + "]";
    }
  }
}
