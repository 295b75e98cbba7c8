package dev.mlops.metrics;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
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
 * outcome, latency and batch-size summaries per model version, and the most recent lifecycle
 * events. Meant for tests, the CLI and the quickstart; {@link #report()} renders a small table.
 *
 * <p><b>Thread-safety.</b> All methods may be called from any number of threads at once. Recording
 * a prediction takes no lock: it is one {@link ConcurrentHashMap} lookup (with a small key object)
 * and a few {@link LongAdder} and atomic-array increments. Counts are exact once recording has
 * stopped; a read that races with recording sees each counter at some recent value, so fields read
 * together (e.g. the count and the mean of a {@link LatencySummary}) may be off from each other by
 * the events in flight. {@link #onLifecycle} and {@link #lifecycleEvents()} share a small lock;
 * they are not on the prediction path.
 *
 * <p><b>Memory.</b> Each model version seen costs about 8.5 KiB (mostly the latency histogram); the
 * lifecycle buffer holds at most {@value #LIFECYCLE_CAPACITY} events. Nothing else grows.
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
   * Forgets every call and lifecycle event. Thread-safe; events recorded while it runs may or may
   * not survive it, and {@link #total()} may briefly disagree with the per-version counts.
   */
  public void reset() {
    series.clear();
    total.reset();
    synchronized (lifecycleLock) {
      lifecycle.clear();
    }
  }

  /**
   * A small human-readable table with one row per model version: calls, errors (every outcome but
   * success), p50, p99 and max latency (in {@code us}, {@code ms} or {@code s}) and mean batch
   * size. Rows are sorted by model, then version; lines end with {@code \n}. Thread-safe; reads the
   * counters without stopping recording.
   *
   * @return the table, or {@code no predictions recorded} and a newline if there is nothing yet
   */
  public String report() {
    List<Key> keys = new ArrayList<>(series.keySet());
    if (keys.isEmpty()) {
      return "no predictions recorded\n";
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
    return renderTable(rows);
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

  private static String renderTable(List<String[]> rows) {
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
        // Text columns left-aligned, numbers right-aligned; two spaces between columns.
        boolean left = c == 0;
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

  /** Everything kept for one model version. */
  private static final class Series {
    final LongAdder[] outcomes = new LongAdder[OUTCOMES.length];
    final LatencyHistogram histogram = new LatencyHistogram();
    final LongAdder latencySum = new LongAdder();
    final AtomicLong latencyMax = new AtomicLong();
    final LongAdder batchCount = new LongAdder();
    final LongAdder batchSum = new LongAdder();

    Series() {
      for (int i = 0; i < outcomes.length; i++) {
        outcomes[i] = new LongAdder();
      }
    }

    void record(PredictionEvent event) {
      long latency = Math.max(0L, event.latencyNanos());
      histogram.record(latency);
      latencySum.add(latency);
      // Read before CAS: once the max settles, most calls only read it.
      long max = latencyMax.get();
      while (latency > max && !latencyMax.compareAndSet(max, latency)) {
        max = latencyMax.get();
      }
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
      long[] snapshot = histogram.snapshot();
      long count = 0;
      for (long c : snapshot) {
        count += c;
      }
      if (count == 0) {
        return LatencySummary.EMPTY;
      }
      long max = latencyMax.get();
      double mean = (double) latencySum.sum() / count;
      long p50 = Math.min(LatencyHistogram.valueAtQuantile(snapshot, count, 0.50), max);
      long p99 = Math.min(LatencyHistogram.valueAtQuantile(snapshot, count, 0.99), max);
      return new LatencySummary(count, mean, max, p50, p99);
    }

    BatchSizeSummary batchSize() {
      long count = batchCount.sum();
      return count == 0
          ? BatchSizeSummary.EMPTY
          : new BatchSizeSummary(count, (double) batchSum.sum() / count);
    }
  }
}
