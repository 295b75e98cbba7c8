package dev.mlops.metrics;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.api.spi.ShadowEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link MetricSink} that keeps everything in memory: exact call counts per model, version and
 * outcome, latency and batch-size summaries per model version, the shadow copies of each rollout
 * ({@link #shadow}), and the most recent lifecycle events. Meant for tests, the CLI and the
 * quickstart; {@link #report()} renders a small table.
 *
 * <p><b>Thread-safety.</b> All methods may be called from any number of threads at once. Recording
 * a prediction takes no lock: it is one {@link ConcurrentHashMap} lookup (with a small key object)
 * and a few {@link LongAdder} and atomic-array increments. Counts are exact once recording has
 * stopped; a read that races with recording sees each counter at some recent value, so fields read
 * together (e.g. the count and the mean of a {@link LatencySummary}) may be off from each other by
 * the events in flight. {@link #onLifecycle} and {@link #lifecycleEvents()} share a small lock;
 * they are not on the prediction path.
 *
 * <p><b>Memory.</b> Each model version seen, and each rollout with shadow copies, costs about 8.5
 * KiB (mostly the latency histogram); the lifecycle buffer holds at most {@value
 * #LIFECYCLE_CAPACITY} events. Nothing else grows.
 *
 * <p><b>Latency percentiles</b> come from a fixed log-linear histogram (32 linear buckets per power
 * of two, nanosecond resolution): every reported percentile is within 1/64 (about 1.6%) of the true
 * nearest-rank value for latencies up to 2<sup>36</sup> ns (about 68.7 s), which covers 1 µs to 60
 * s. Longer latencies saturate the percentiles at about 68.7 s; the mean and max stay exact.
 */
public final class InMemoryMetricSink implements MetricSink {

  /** How many lifecycle events are kept; older ones are dropped first. */
  public static final int LIFECYCLE_CAPACITY = 10_000;

  private static final Outcome[] OUTCOMES = Outcome.values();
  private static final Comparator<Key> KEY_ORDER =
      Comparator.comparing(Key::model).thenComparingLong(Key::version);

  private final ConcurrentHashMap<Key, Series> series = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<RolloutKey, Shadow> shadows = new ConcurrentHashMap<>();
  private final LongAdder total = new LongAdder();
  private final Object lifecycleLock = new Object();
  private final ArrayDeque<LifecycleEvent> lifecycle = new ArrayDeque<>();

  /** Creates an empty sink. */
  public InMemoryMetricSink() {}

  /**
   * Records one prediction. Lock-free; thread-safe. Negative latencies count as 0; batch sizes
   * below 1 (calls that never reached the engine) are left out of the batch-size summary.
   */
  @Override
  public void onPrediction(PredictionEvent event) {
    Key key = new Key(event.model(), event.version());
    Series s = series.get(key);
    if (s == null) {
      s = series.computeIfAbsent(key, k -> new Series());
    }
    s.record(event);
    total.increment();
  }

  /**
   * Keeps the event, dropping the oldest once {@value #LIFECYCLE_CAPACITY} are held. Thread-safe;
   * takes a short lock shared only with {@link #lifecycleEvents()} and {@link #reset()}.
   *
   * @throws NullPointerException if {@code event} is null
   */
  @Override
  public void onLifecycle(LifecycleEvent event) {
    Objects.requireNonNull(event, "event");
    synchronized (lifecycleLock) {
      if (lifecycle.size() == LIFECYCLE_CAPACITY) {
        lifecycle.removeFirst();
      }
      lifecycle.addLast(event);
    }
  }

  /**
   * Records one shadow copy of a rollout, run or dropped. Lock-free; thread-safe. Negative
   * latencies count as 0.
   */
  @Override
  public void onShadow(ShadowEvent event) {
    RolloutKey key = new RolloutKey(event.model(), event.rollout());
    Shadow s = shadows.get(key);
    if (s == null) {
      s = shadows.computeIfAbsent(key, k -> new Shadow());
    }
    s.record(event);
  }

  /**
   * The shadow copies of one rollout of this model: run, dropped, failed, how far the candidate's
   * answers were from the stable ones, and the candidate's latency. Thread-safe.
   *
   * @param model model name
   * @param rollout the rollout's id ({@code Rollout.id()})
   * @return the summary, {@link ShadowSummary#EMPTY} if no copy was seen
   */
  public ShadowSummary shadow(String model, String rollout) {
    Shadow s = shadows.get(new RolloutKey(model, rollout));
    return s == null ? ShadowSummary.EMPTY : s.summary();
  }

  /**
   * The rollouts of this model with at least one shadow copy recorded, run or dropped. Thread-safe.
   *
   * @param model model name
   * @return an unmodifiable copy in ascending order, empty if none
   */
  public Set<String> shadowedRollouts(String model) {
    Objects.requireNonNull(model, "model");
    TreeSet<String> rollouts = new TreeSet<>();
    for (RolloutKey key : shadows.keySet()) {
      if (key.model().equals(model)) {
        rollouts.add(key.rollout());
      }
    }
    return Collections.unmodifiableSet(rollouts);
  }

  /**
   * Number of calls for this model version that ended with this outcome. Thread-safe.
   *
   * @param model model name
   * @param version version number
   * @param outcome how the calls ended
   * @return the count, 0 if none was seen
   */
  public long count(String model, long version, Outcome outcome) {
    Objects.requireNonNull(outcome, "outcome");
    Series s = series.get(new Key(model, version));
    return s == null ? 0L : s.outcomes[outcome.ordinal()].sum();
  }

  /**
   * Number of calls for this model version, all outcomes together. Thread-safe.
   *
   * @param model model name
   * @param version version number
   * @return the count, 0 if none was seen
   */
  public long count(String model, long version) {
    Series s = series.get(new Key(model, version));
    return s == null ? 0L : s.calls();
  }

  /**
   * Number of calls recorded since creation or the last {@link #reset()}, all models. Thread-safe.
   *
   * @return the count
   */
  public long total() {
    return total.sum();
  }

  /**
   * Latency of this model version's calls, all outcomes together. Percentiles are within 1/64 of
   * the true value (see the class description). Thread-safe.
   *
   * @param model model name
   * @param version version number
   * @return the summary, {@link LatencySummary#EMPTY} if no call was seen
   */
  public LatencySummary latency(String model, long version) {
    Series s = series.get(new Key(model, version));
    return s == null ? LatencySummary.EMPTY : s.latency();
  }

  /**
   * Batch sizes of this model version's calls that reached the engine. Thread-safe.
   *
   * @param model model name
   * @param version version number
   * @return the summary, {@link BatchSizeSummary#EMPTY} if no such call was seen
   */
  public BatchSizeSummary batchSize(String model, long version) {
    Series s = series.get(new Key(model, version));
    return s == null ? BatchSizeSummary.EMPTY : s.batchSize();
  }

  /**
   * The versions of this model that served at least one recorded call. Thread-safe.
   *
   * @param model model name
   * @return an unmodifiable copy in ascending order, empty if none
   */
  public Set<Long> versions(String model) {
    Objects.requireNonNull(model, "model");
    TreeSet<Long> versions = new TreeSet<>();
    for (Key key : series.keySet()) {
      if (key.model().equals(model)) {
        versions.add(key.version());
      }
    }
    return Collections.unmodifiableSet(versions);
  }

  /**
   * The models with at least one recorded call. Thread-safe.
   *
   * @return an unmodifiable copy in ascending order, empty if none
   */
  public Set<String> models() {
    TreeSet<String> models = new TreeSet<>();
    for (Key key : series.keySet()) {
      models.add(key.model());
    }
    return Collections.unmodifiableSet(models);
  }

  /**
   * The most recent lifecycle events, at most {@value #LIFECYCLE_CAPACITY}. Thread-safe.
   *
   * @return an unmodifiable copy, oldest first
   */
  public List<LifecycleEvent> lifecycleEvents() {
    synchronized (lifecycleLock) {
      return List.copyOf(lifecycle);
    }
  }

  /**
   * Forgets every call, shadow copy and lifecycle event. Thread-safe; events recorded while it runs
   * may or may not survive it, and {@link #total()} may briefly disagree with the per-version
   * counts.
   */
  public void reset() {
    series.clear();
    shadows.clear();
    total.reset();
    synchronized (lifecycleLock) {
      lifecycle.clear();
    }
  }

  /**
   * A small human-readable table with one row per model version: calls, errors (every outcome but
   * success), p50, p99 and max latency (in {@code us}, {@code ms} or {@code s}) and mean batch
   * size. Rows are sorted by model, then version; lines end with {@code \n}. When shadow copies
   * were recorded, a second table follows after an empty line, one row per rollout: copies run,
   * dropped and failed, copies whose arg-max changed, the largest output difference and the
   * candidate's p50 and p99. Thread-safe; reads the counters without stopping recording.
   *
   * @return the table, or {@code no predictions recorded} and a newline if no call was recorded
   */
  public String report() {
    List<Key> keys = new ArrayList<>(series.keySet());
    if (keys.isEmpty()) {
      return "no predictions recorded\n" + shadowReport();
    }
    keys.sort(KEY_ORDER);
    List<String[]> rows = new ArrayList<>(keys.size() + 1);
    rows.add(new String[] {"model", "version", "calls", "errors", "p50", "p99", "max", "batch"});
    for (Key key : keys) {
      Series s = series.get(key);
      if (s == null) {
        continue; // reset while reporting
      }
      long calls = s.calls();
      long errors = calls - s.outcomes[Outcome.SUCCESS.ordinal()].sum();
      LatencySummary latency = s.latency();
      BatchSizeSummary batch = s.batchSize();
      rows.add(
          new String[] {
            key.model(),
            Long.toString(key.version()),
            Long.toString(calls),
            Long.toString(errors),
            formatNanos(latency.p50Nanos()),
            formatNanos(latency.p99Nanos()),
            formatNanos(latency.maxNanos()),
            batch.count() == 0 ? "-" : String.format(Locale.ROOT, "%.1f", batch.meanSize())
          });
    }
    return renderTable(rows, 1) + shadowReport();
  }

  /** The shadow table of {@link #report()}, after an empty line; empty when no copy was seen. */
  private String shadowReport() {
    List<RolloutKey> keys = new ArrayList<>(shadows.keySet());
    if (keys.isEmpty()) {
      return "";
    }
    keys.sort(Comparator.comparing(RolloutKey::model).thenComparing(RolloutKey::rollout));
    List<String[]> rows = new ArrayList<>(keys.size() + 1);
    rows.add(
        new String[] {
          "shadow", "rollout", "copies", "dropped", "failed", "argmax", "max-diff", "p50", "p99"
        });
    for (RolloutKey key : keys) {
      Shadow s = shadows.get(key);
      if (s == null) {
        continue; // reset while reporting
      }
      ShadowSummary summary = s.summary();
      rows.add(
          new String[] {
            key.model(),
            key.rollout(),
            Long.toString(summary.copies()),
            Long.toString(summary.dropped()),
            Long.toString(summary.failed()),
            Long.toString(summary.argmaxDifferences()),
            String.format(Locale.ROOT, "%.3g", summary.maxAbsDifference()),
            formatNanos(summary.latency().p50Nanos()),
            formatNanos(summary.latency().p99Nanos())
          });
    }
    return "\n" + renderTable(rows, 2);
  }

  /** Counts for a quick look, e.g. {@code InMemoryMetricSink[versions=2, calls=1000]}. */
  @Override
  public String toString() {
    return "InMemoryMetricSink[versions=" + series.size() + ", calls=" + total.sum() + "]";
  }

  static String formatNanos(long nanos) {
    if (nanos < 1_000_000L) {
      return (nanos / 1_000L) + "us";
    }
    if (nanos < 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.2fms", nanos / 1e6);
    }
    return String.format(Locale.ROOT, "%.2fs", nanos / 1e9);
  }

  /**
   * Rows in columns two spaces apart: the first {@code text} columns left-aligned, numbers right.
   */
  private static String renderTable(List<String[]> rows, int text) {
    int columns = rows.get(0).length;
    int[] widths = new int[columns];
    for (String[] row : rows) {
      for (int c = 0; c < columns; c++) {
        widths[c] = Math.max(widths[c], row[c].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] row : rows) {
      for (int c = 0; c < columns; c++) {
        boolean left = c < text;
        String cell = row[c];
        String pad = " ".repeat(widths[c] - cell.length());
        if (c > 0) {
          out.append("  ");
        }
        if (left) {
          out.append(cell);
          if (c < columns - 1) {
            out.append(pad);
          }
        } else {
          out.append(pad).append(cell);
        }
      }
      out.append('\n');
    }
    return out.toString();
  }

  private record Key(String model, long version) {}

  private record RolloutKey(String model, String rollout) {}

  /** Everything kept for one model version. */
  private static final class Series {
    final LongAdder[] outcomes = new LongAdder[OUTCOMES.length];
    final Latencies latencies = new Latencies();
    final LongAdder batchCount = new LongAdder();
    final LongAdder batchSum = new LongAdder();

    Series() {
      for (int i = 0; i < outcomes.length; i++) {
        outcomes[i] = new LongAdder();
      }
    }

    void record(PredictionEvent event) {
      latencies.record(event.latencyNanos());
      if (event.batchSize() > 0) {
        batchCount.increment();
        batchSum.add(event.batchSize());
      }
      outcomes[event.outcome().ordinal()].increment();
    }

    long calls() {
      long calls = 0;
      for (LongAdder adder : outcomes) {
        calls += adder.sum();
      }
      return calls;
    }

    LatencySummary latency() {
      return latencies.summary();
    }

    BatchSizeSummary batchSize() {
      long count = batchCount.sum();
      return count == 0
          ? BatchSizeSummary.EMPTY
          : new BatchSizeSummary(count, (double) batchSum.sum() / count);
    }
  }

  /** A latency histogram with its exact sum and max; lock-free. */
  private static final class Latencies {
    final LatencyHistogram histogram = new LatencyHistogram();
    final LongAdder sum = new LongAdder();
    final AtomicLong max = new AtomicLong();

    /** Records one latency; negative ones count as 0. */
    void record(long nanos) {
      long latency = Math.max(0L, nanos);
      histogram.record(latency);
      sum.add(latency);
      // Read before CAS: once the max settles, most calls only read it.
      long m = max.get();
      while (latency > m && !max.compareAndSet(m, latency)) {
        m = max.get();
      }
    }

    LatencySummary summary() {
      long[] snapshot = histogram.snapshot();
      long count = 0;
      for (long c : snapshot) {
        count += c;
      }
      if (count == 0) {
        return LatencySummary.EMPTY;
      }
      long largest = max.get();
      double mean = (double) sum.sum() / count;
      long p50 = Math.min(LatencyHistogram.valueAtQuantile(snapshot, count, 0.50), largest);
      long p99 = Math.min(LatencyHistogram.valueAtQuantile(snapshot, count, 0.99), largest);
      return new LatencySummary(count, mean, largest, p50, p99);
    }
  }

  /** Everything kept for one rollout's shadow copies. */
  private static final class Shadow {
    final LongAdder copies = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder argmaxDifferences = new LongAdder();
    // The bits of a non-negative double order as the double does, so a long max is the max.
    final AtomicLong maxAbsDifference = new AtomicLong(Double.doubleToLongBits(0.0));
    final Latencies latencies = new Latencies();

    void record(ShadowEvent event) {
      if (event.dropped()) {
        dropped.increment();
        return;
      }
      copies.increment();
      latencies.record(event.latencyNanos());
      if (event.outcome() != Outcome.SUCCESS) {
        failed.increment();
      }
      event
          .comparison()
          .ifPresent(
              c -> {
                if (c.argmaxDiffers()) {
                  argmaxDifferences.increment();
                }
                double d = c.maxAbsDifference();
                if (d > 0) { // NaN and 0 leave the max alone
                  long bits = Double.doubleToLongBits(d);
                  long m = maxAbsDifference.get();
                  while (bits > m && !maxAbsDifference.compareAndSet(m, bits)) {
                    m = maxAbsDifference.get();
                  }
                }
              });
    }

    ShadowSummary summary() {
      return new ShadowSummary(
          copies.sum(),
          dropped.sum(),
          failed.sum(),
          argmaxDifferences.sum(),
          Double.longBitsToDouble(maxAbsDifference.get()),
          latencies.summary());
    }
  }
}
