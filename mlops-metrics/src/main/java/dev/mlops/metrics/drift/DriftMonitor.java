package dev.mlops.metrics.drift;

import dev.mlops.api.ElementType;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.PredictionObserver;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the inputs and predictions of every successful call for drift and data-quality problems,
 * per model version, against the version's {@link DriftBaseline}. Register it with the runtime as a
 * {@link PredictionObserver}:
 *
 * <pre>{@code
 * ModelRegistry registry = LocalModelRegistry.open(dir);
 * DriftMonitor drift = DriftMonitor.builder()
 *     .baselineAttachment(registry, DriftBaseline.ATTACHMENT_NAME)
 *     .listener(alarm -> log.warn("drift: {}", alarm))
 *     .build();
 * Mlops mlops = Mlops.builder().registry(registry).observers(drift).build();
 * }</pre>
 *
 * <p><b>What it watches.</b> By default, the columns of the model's single {@code float32} (or
 * {@code float64}) input, shaped {@code [rows, features]} or {@code [features]}, one feature per
 * column; and the prediction: the last column of the model's first floating-point output (for a
 * {@code [rows, 2]} probability output, the probability of the positive class), under the name
 * {@value DriftBaseline#PREDICTION}. Feature names come from {@link Builder#featureNames}, else
 * from the baseline (its features other than the prediction, in order), else {@code f0, f1, ...}.
 * Baseline features are matched by name. A version whose input cannot be read this way is skipped,
 * with one warning naming the reason.
 *
 * <p><b>How.</b> Each version keeps a sliding window of its last {@link Builder#window} rows in a
 * ring buffer. Every {@link Builder#evaluateEvery} rows, once the window is full, the window is
 * evaluated: per feature the {@link DriftMetric}s (PSI over the baseline's bins with empty bins
 * counted as {@value #PSI_EPSILON}, the exact two-sample Kolmogorov–Smirnov statistic {@code max
 * |F_ref - F_window|} over the union of both samples, its p-value, the NaN rate and the
 * out-of-range rate) and the window's histogram over the baseline's bins and its 5th, 50th and 95th
 * percentiles. {@link #evaluate()} evaluates at once, whatever the window holds. Each measure with
 * a threshold raises a {@link DriftAlarm} when it crosses to the alarming side and clears it when
 * it crosses back: one alarm per crossing, not one per evaluation. Default thresholds: PSI 0.2, KS
 * statistic 0.1, NaN rate 0.01, out-of-range rate 0.05, no p-value threshold.
 *
 * <p><b>Cost.</b> Observing a call copies its rows into the ring buffer under a per-version lock: a
 * map lookup (skipped while the same version repeats), then one array copy per row. An evaluation
 * sorts each column of the window ({@code O(window log window)} per feature) and runs on the
 * prediction thread that completed the interval, unless {@link Builder#executor} gives it another;
 * with the defaults that is one evaluation per 1,000 rows.
 *
 * <p><b>Memory per monitored feature</b> (the prediction counts as one), per monitored version:
 * {@code 4 * window} bytes for its column of the ring buffer plus about 400 bytes of statistics and
 * alarm state (with 10 bins), i.e. about 4.4 KB with the default window of 1,000 rows; an
 * evaluation briefly allocates another {@code 4 * window} bytes per feature, plus {@code 4 *
 * window} once. The baseline adds at most about 4.2 KB per feature with its defaults (see {@link
 * DriftBaseline}), and a bound {@link DriftMeterBinder} seven gauges. At most {@link
 * Builder#maxVersions} versions ({@value #DEFAULT_MAX_VERSIONS} by default) are monitored at once;
 * observing another drops the state of the one that started monitoring first. Nothing else grows.
 *
 * <p><b>Thread-safety.</b> Thread-safe. {@link #observe} never throws: what goes wrong is logged
 * (rate-limited) and the call is skipped. Alarms go to the listener after the evaluation, on the
 * thread that ran it.
 */
public final class DriftMonitor implements PredictionObserver {

  /** The least proportion a PSI bin counts with, so that empty bins give a finite index. */
  public static final double PSI_EPSILON = 1e-4;

  /** Default window, in rows. */
  public static final int DEFAULT_WINDOW = 1_000;

  /** Default number of versions monitored at once. */
  public static final int DEFAULT_MAX_VERSIONS = 8;

  private static final Logger LOG = LoggerFactory.getLogger(DriftMonitor.class);
  private static final DriftMetric[] METRICS = DriftMetric.values();
  private static final Comparator<MonitoredVersion> ORDER =
      Comparator.comparing((MonitoredVersion m) -> m.model).thenComparingLong(m -> m.version);

  private final String input;
  private final List<String> featureNames;
  private final boolean monitorPrediction;
  private final String predictionOutput;
  private final int predictionColumn;
  private final Function<ModelVersion, Optional<DriftBaseline>> baselines;
  private final String baselineDescription;
  private final int window;
  private final int evaluateEvery;
  private final int maxVersions;
  private final double[] thresholds;
  private final DriftAlarmListener listener;
  private final Executor executor;
  private final Clock clock;

  private final ConcurrentHashMap<VersionKey, MonitoredVersion> versions =
      new ConcurrentHashMap<>();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final List<Hooks> hooks = new CopyOnWriteArrayList<>();
  private volatile MonitoredVersion last;

  private DriftMonitor(Builder b) {
    this.input = b.input;
    this.featureNames = b.featureNames;
    this.monitorPrediction = !b.ignorePrediction;
    this.predictionOutput = b.predictionOutput;
    this.predictionColumn = b.predictionColumn;
    this.baselines = b.baselines;
    this.baselineDescription = b.baselineDescription;
    this.window = b.window > 0 ? b.window : DEFAULT_WINDOW;
    this.evaluateEvery = b.evaluateEvery > 0 ? b.evaluateEvery : this.window;
    this.maxVersions = b.maxVersions > 0 ? b.maxVersions : DEFAULT_MAX_VERSIONS;
    this.thresholds = new double[METRICS.length];
    for (DriftMetric metric : METRICS) {
      thresholds[metric.ordinal()] = b.thresholds.getOrDefault(metric, Double.NaN);
    }
    this.listener = b.listener;
    this.executor = b.executor;
    this.clock = b.clock != null ? b.clock : Clock.systemUTC();
  }

  /**
   * A new builder; every option has a default. Not thread-safe; the monitor is.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Adds the rows of one successful call to the version's window and, when an interval completes,
   * evaluates it. Thread-safe; never throws.
   */
  @Override
  public void observe(
      ModelVersion version, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
    try {
      MonitoredVersion m = monitored(version, inputs, outputs);
      if (m.disabled()) {
        return;
      }
      if (record(m, inputs, outputs)) {
        schedule(m);
      }
    } catch (RuntimeException e) {
      failed("observing a call of " + version.ref(), e);
    }
  }

  /**
   * Evaluates every monitored version's window now, whatever it holds, raising and clearing alarms
   * as thresholds are crossed. Runs on the caller's thread.
   *
   * @return the statistics of every monitored feature, by model, version and column order
   */
  public List<DriftStats> evaluate() {
    List<DriftStats> all = new ArrayList<>();
    for (MonitoredVersion m : sortedVersions()) {
      all.addAll(evaluate(m, true));
    }
    return all;
  }

  /**
   * The statistics of the latest evaluation of every monitored version; a version not evaluated yet
   * contributes nothing.
   *
   * @return a new list, by model, version and column order
   */
  public List<DriftStats> stats() {
    List<DriftStats> all = new ArrayList<>();
    for (MonitoredVersion m : sortedVersions()) {
      for (DriftStats s : m.lastByColumn) {
        if (s != null) {
          all.add(s);
        }
      }
    }
    return all;
  }

  /**
   * The alarms raised and not cleared, each as it was raised.
   *
   * @return a new list, by model, version, column and metric
   */
  public List<DriftAlarm> activeAlarms() {
    List<DriftAlarm> all = new ArrayList<>();
    for (MonitoredVersion m : sortedVersions()) {
      m.evaluation.lock();
      try {
        for (DriftAlarm[] column : m.active) {
          for (DriftAlarm alarm : column) {
            if (alarm != null) {
              all.add(alarm);
            }
          }
        }
      } finally {
        m.evaluation.unlock();
      }
    }
    return all;
  }

  /** Describes the configuration. */
  @Override
  public String toString() {
    return "DriftMonitor[window="
        + window
        + ", evaluateEvery="
        + evaluateEvery
        + ", baseline="
        + baselineDescription
        + ", versions="
        + versions.size()
        + "]";
  }

  // ---------------------------------------------------------------- internals

  List<MonitoredVersion> sortedVersions() {
    List<MonitoredVersion> list = new ArrayList<>();
    for (MonitoredVersion m : versions.values()) {
      if (!m.disabled()) {
        list.add(m);
      }
    }
    list.sort(ORDER);
    return list;
  }

  void addHooks(Hooks h) {
    hooks.add(h);
  }

  private MonitoredVersion monitored(
      ModelVersion version, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
    MonitoredVersion m = last;
    if (m != null && m.modelVersion == version) {
      return m;
    }
    VersionKey key = new VersionKey(version.name(), version.version());
    m = versions.get(key);
    if (m == null) {
      MonitoredVersion[] made = new MonitoredVersion[1];
      m = versions.computeIfAbsent(key, k -> made[0] = create(version, inputs, outputs));
      if (made[0] == m) {
        if (m.disabled()) {
          LOG.warn("drift monitoring skips {}: {}", version.ref(), m.disabledReason);
        } else {
          LOG.debug(
              "drift monitoring of {} started: input {}, columns {}",
              version.ref(),
              m.input,
              m.columnNames);
          for (Hooks h : hooks) {
            h.added(m);
          }
        }
        evictBeyondLimit(m);
      }
    }
    if (last != m) {
      last = m;
    }
    return m;
  }

  private void evictBeyondLimit(MonitoredVersion keep) {
    while (versions.size() > maxVersions) {
      MonitoredVersion oldest = null;
      for (MonitoredVersion m : versions.values()) {
        if (m != keep && (oldest == null || m.sequence < oldest.sequence)) {
          oldest = m;
        }
      }
      if (oldest == null) {
        return;
      }
      if (versions.remove(new VersionKey(oldest.model, oldest.version), oldest)) {
        LOG.debug(
            "drift monitoring of {} v{} dropped: more than {} versions",
            oldest.model,
            oldest.version,
            maxVersions);
        if (!oldest.disabled()) {
          for (Hooks h : hooks) {
            h.removed(oldest);
          }
        }
      }
    }
  }

  private MonitoredVersion create(
      ModelVersion version, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
    long seq = sequence.incrementAndGet();
    String inputName = input != null ? input : floatInput(version, inputs);
    if (inputName == null) {
      return new MonitoredVersion(
          version,
          seq,
          "it has no single float32 or float64 input (inputs "
              + version.signature().inputs()
              + "); name the input with DriftMonitor.Builder.input(...)");
    }
    Tensor in = inputs.get(inputName);
    if (in == null) {
      return new MonitoredVersion(
          version, seq, "the call has no input '" + inputName + "'; inputs are " + inputs.keySet());
    }
    if (in.type() != ElementType.FLOAT && in.type() != ElementType.DOUBLE) {
      return new MonitoredVersion(
          version,
          seq,
          "input '" + inputName + "' is " + in.describe() + ", not float32 or float64");
    }
    if (in.rank() != 1 && in.rank() != 2) {
      return new MonitoredVersion(
          version,
          seq,
          "input '"
              + inputName
              + "' is "
              + in.describe()
              + "; expected [rows, features] or [features]");
    }
    int width = (int) in.dim(in.rank() - 1);
    Optional<DriftBaseline> baseline = loadBaseline(version);
    List<String> names;
    if (featureNames != null) {
      names = featureNames;
    } else if (baseline.isPresent()) {
      names = new ArrayList<>(baseline.get().featureNames());
      names.remove(DriftBaseline.PREDICTION);
    } else {
      names = new ArrayList<>(width);
      for (int i = 0; i < width; i++) {
        names.add("f" + i);
      }
    }
    if (names.size() != width) {
      return new MonitoredVersion(
          version,
          seq,
          "input '"
              + inputName
              + "' has "
              + width
              + " columns but there are "
              + names.size()
              + " feature names"
              + (featureNames == null ? " in the baseline" : ""));
    }
    String outputName = monitorPrediction ? predictionOutput(version, outputs) : null;
    List<String> columns = new ArrayList<>(names);
    if (outputName != null) {
      if (columns.contains(DriftBaseline.PREDICTION)) {
        return new MonitoredVersion(
            version,
            seq,
            "a feature is named '"
                + DriftBaseline.PREDICTION
                + "', the name of the monitored prediction");
      }
      columns.add(DriftBaseline.PREDICTION);
    }
    DriftBaseline.Feature[] features = new DriftBaseline.Feature[columns.size()];
    for (int c = 0; c < features.length; c++) {
      String name = columns.get(c);
      features[c] = baseline.flatMap(b -> b.feature(name)).filter(f -> f.count() > 0).orElse(null);
    }
    return new MonitoredVersion(
        version, seq, inputName, width, outputName, columns, features, window);
  }

  private static String floatInput(ModelVersion version, Map<String, Tensor> inputs) {
    List<TensorSpec> specs = version.signature().inputs();
    if (specs.size() == 1 && isFloating(specs.get(0).type())) {
      return specs.get(0).name();
    }
    if (specs.isEmpty() && inputs.size() == 1) {
      Map.Entry<String, Tensor> only = inputs.entrySet().iterator().next();
      return isFloating(only.getValue().type()) ? only.getKey() : null;
    }
    return null;
  }

  private String predictionOutput(ModelVersion version, Map<String, Tensor> outputs) {
    if (predictionOutput != null) {
      return predictionOutput;
    }
    for (TensorSpec spec : version.signature().outputs()) {
      if (isFloating(spec.type()) && outputs.containsKey(spec.name())) {
        return spec.name();
      }
    }
    for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
      if (isFloating(e.getValue().type())) {
        return e.getKey();
      }
    }
    LOG.debug("{} has no floating-point output; its prediction is not monitored", version.ref());
    return null;
  }

  private static boolean isFloating(ElementType type) {
    return type == ElementType.FLOAT || type == ElementType.DOUBLE;
  }

  private Optional<DriftBaseline> loadBaseline(ModelVersion version) {
    if (baselines == null) {
      return Optional.empty();
    }
    try {
      Optional<DriftBaseline> b =
          Objects.requireNonNull(baselines.apply(version), "the baseline function returned null");
      if (b.isEmpty()) {
        LOG.info(
            "{} has no drift baseline ({}); only NaN rates and quantiles are measured",
            version.ref(),
            baselineDescription);
      }
      return b;
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot load the drift baseline of {} ({}); only NaN rates and quantiles are measured: {}",
          version.ref(),
          baselineDescription,
          e.toString());
      return Optional.empty();
    }
  }

  /** Appends the call's rows; returns whether an evaluation is due. */
  private boolean record(
      MonitoredVersion m, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
    Tensor in = inputs.get(m.input);
    if (in == null
        || in.rank() < 1
        || in.rank() > 2
        || in.dim(in.rank() - 1) != m.features
        || !isFloating(in.type())) {
      skip(
          m,
          "input '"
              + m.input
              + "' is "
              + (in == null ? "missing" : in.describe())
              + ", expected "
              + m.features
              + " float columns");
      return false;
    }
    int rows = in.rank() == 2 ? (int) in.dim(0) : 1;
    Tensor out = m.output == null ? null : outputs.get(m.output);
    float[] floats = in.type() == ElementType.FLOAT ? in.floats() : null;
    double[] doubles = floats == null ? in.doubles() : null;
    int f = m.features;
    int cols = m.columns;
    synchronized (m) {
      for (int r = 0; r < rows; r++) {
        int at = m.next * cols;
        if (floats != null) {
          System.arraycopy(floats, r * f, m.ring, at, f);
        } else {
          for (int i = 0; i < f; i++) {
            m.ring[at + i] = (float) doubles[r * f + i];
          }
        }
        if (m.output != null) {
          m.ring[at + f] = prediction(out, r, rows);
        }
        m.next = m.next + 1 == m.window ? 0 : m.next + 1;
      }
      m.size = (int) Math.min(m.window, (long) m.size + rows);
      m.observed += rows;
      m.sinceEvaluation = (int) Math.min(Integer.MAX_VALUE, (long) m.sinceEvaluation + rows);
      if (m.size == m.window && m.sinceEvaluation >= evaluateEvery) {
        m.sinceEvaluation = 0;
        return true;
      }
      return false;
    }
  }

  /** The prediction of row {@code r}, NaN if the output does not have one. */
  private float prediction(Tensor out, int r, int rows) {
    if (out == null || !isFloating(out.type())) {
      return Float.NaN;
    }
    int count = out.elementCount();
    int index;
    if (out.rank() == 2 && out.dim(0) == rows) {
      int width = (int) out.dim(1);
      int column = predictionColumn >= 0 ? predictionColumn : width - 1;
      if (column >= width) {
        return Float.NaN;
      }
      index = r * width + column;
    } else if (count == rows) {
      index = r;
    } else {
      return Float.NaN;
    }
    return out.type() == ElementType.FLOAT ? out.floats()[index] : (float) out.doubles()[index];
  }

  private void skip(MonitoredVersion m, String why) {
    if (m.warned.compareAndSet(false, true)) {
      LOG.warn("drift monitoring skips calls of {} v{}: {} (logged once)", m.model, m.version, why);
    }
  }

  private void schedule(MonitoredVersion m) {
    if (executor == null) {
      evaluateQuietly(m);
      return;
    }
    try {
      executor.execute(() -> evaluateQuietly(m));
    } catch (RejectedExecutionException e) {
      LOG.debug(
          "drift evaluation of {} v{} rejected by the executor; the next interval retries",
          m.model,
          m.version);
    }
  }

  private void evaluateQuietly(MonitoredVersion m) {
    try {
      evaluate(m, false);
    } catch (RuntimeException e) {
      failed("evaluating " + m.model + " v" + m.version, e);
    }
  }

  /** Evaluates one version; if not forced and another evaluation runs, leaves it to that one. */
  private List<DriftStats> evaluate(MonitoredVersion m, boolean force) {
    if (force) {
      m.evaluation.lock();
    } else if (!m.evaluation.tryLock()) {
      return List.of();
    }
    List<DriftAlarm> alarms = new ArrayList<>();
    List<DriftStats> result;
    try {
      int rows;
      long observed;
      float[] snapshot;
      synchronized (m) {
        rows = m.size;
        observed = m.observed;
        snapshot = Arrays.copyOf(m.ring, rows * m.columns);
      }
      if (rows == 0) {
        return List.of();
      }
      Instant now = clock.instant();
      float[] column = new float[rows];
      DriftStats[] stats = new DriftStats[m.columns];
      for (int c = 0; c < m.columns; c++) {
        for (int r = 0; r < rows; r++) {
          column[r] = snapshot[r * m.columns + c];
        }
        stats[c] = columnStats(m, c, column, rows, observed, now);
        for (DriftMetric metric : METRICS) {
          double threshold = thresholds[metric.ordinal()];
          if (Double.isNaN(threshold)) {
            continue;
          }
          double value = stats[c].value(metric);
          boolean breach = metric.breaches(value, threshold);
          if (breach != m.alarmed[c][metric.ordinal()]) {
            m.alarmed[c][metric.ordinal()] = breach;
            DriftAlarm alarm =
                new DriftAlarm(
                    now,
                    m.model,
                    m.version,
                    m.columnNames.get(c),
                    metric,
                    value,
                    threshold,
                    breach ? DriftAlarm.State.RAISED : DriftAlarm.State.CLEARED);
            m.active[c][metric.ordinal()] = breach ? alarm : null;
            alarms.add(alarm);
          }
        }
      }
      m.lastByColumn = stats;
      result = List.of(stats);
    } finally {
      m.evaluation.unlock();
    }
    for (DriftAlarm alarm : alarms) {
      deliver(alarm);
    }
    return result;
  }

  private DriftStats columnStats(
      MonitoredVersion m, int c, float[] values, int rows, long observed, Instant now) {
    DriftBaseline.Feature base = m.baseline[c];
    // Move NaNs to the end, counting them, and count out-of-range values on the way.
    int n = 0;
    int outOfRange = 0;
    for (int i = 0; i < rows; i++) {
      float v = values[i];
      if (!Float.isNaN(v)) {
        values[n++] = v;
        if (base != null && (v < base.min() || v > base.max())) {
          outOfRange++;
        }
      }
    }
    Arrays.sort(values, 0, n);
    double nanRate = (double) (rows - n) / rows;
    double oor = Double.NaN;
    double psi = Double.NaN;
    double ks = Double.NaN;
    double p = Double.NaN;
    List<Double> histogram = List.of();
    if (base != null) {
      oor = (double) outOfRange / rows;
      if (n > 0) {
        float[] edges = base.edgesInternal();
        double[] proportions = new double[edges.length + 1];
        // Values are sorted: walk the edges once.
        int bin = 0;
        for (int i = 0; i < n; i++) {
          while (bin < edges.length && values[i] > edges[bin]) {
            bin++;
          }
          proportions[bin]++;
        }
        Double[] boxed = new Double[proportions.length];
        for (int i = 0; i < proportions.length; i++) {
          proportions[i] /= n;
          boxed[i] = proportions[i];
        }
        histogram = List.of(boxed);
        psi = DriftMath.psi(base.proportionsInternal(), proportions, PSI_EPSILON);
        float[] sample = base.sampleInternal();
        ks = DriftMath.ksStatistic(sample, sample.length, values, n);
        p = DriftMath.ksPValue(ks, base.count(), n);
      }
    }
    return new DriftStats(
        m.model,
        m.version,
        m.columnNames.get(c),
        now,
        observed,
        rows,
        nanRate,
        oor,
        psi,
        ks,
        p,
        DriftMath.quantile(values, n, 5, 100),
        DriftMath.quantile(values, n, 50, 100),
        DriftMath.quantile(values, n, 95, 100),
        histogram);
  }

  private void deliver(DriftAlarm alarm) {
    if (alarm.state() == DriftAlarm.State.RAISED) {
      LOG.info(
          "drift alarm raised: {} v{} {} {}={} (threshold {})",
          alarm.model(),
          alarm.version(),
          alarm.feature(),
          alarm.metric().tag(),
          alarm.value(),
          alarm.threshold());
    } else {
      LOG.info(
          "drift alarm cleared: {} v{} {} {}={} (threshold {})",
          alarm.model(),
          alarm.version(),
          alarm.feature(),
          alarm.metric().tag(),
          alarm.value(),
          alarm.threshold());
    }
    for (Hooks h : hooks) {
      try {
        h.alarmed(alarm);
      } catch (RuntimeException e) {
        failed("recording a drift alarm", e);
      }
    }
    if (listener != null) {
      try {
        listener.onAlarm(alarm);
      } catch (RuntimeException e) {
        failed("the drift alarm listener " + listener, e);
      }
    }
  }

  private void failed(String what, RuntimeException e) {
    long n = failures.incrementAndGet();
    if (n == 1 || n % 10_000 == 0) {
      LOG.warn("drift monitoring failed {} ({} failures so far): {}", what, n, e.toString(), e);
    } else {
      LOG.debug("drift monitoring failed {}", what, e);
    }
  }

  private record VersionKey(String model, long version) {}

  /** Package-private observers of the monitor's versions and alarms (the meter binder). */
  interface Hooks {
    void added(MonitoredVersion m);

    void removed(MonitoredVersion m);

    void alarmed(DriftAlarm alarm);
  }

  /**
   * Builds a {@link DriftMonitor}. Each option may be set once; invalid or conflicting options fail
   * at once with a message naming the option. Not thread-safe.
   */
  public static final class Builder {
    private String input;
    private List<String> featureNames;
    private boolean ignorePrediction;
    private String predictionOutput;
    private int predictionColumn = -1;
    private boolean predictionSet;
    private Function<ModelVersion, Optional<DriftBaseline>> baselines;
    private String baselineDescription = "none";
    private int window;
    private int evaluateEvery;
    private int maxVersions;
    private final EnumMap<DriftMetric, Double> thresholds = new EnumMap<>(DriftMetric.class);
    private final EnumMap<DriftMetric, Boolean> thresholdsSet = new EnumMap<>(DriftMetric.class);
    private DriftAlarmListener listener;
    private Executor executor;
    private Clock clock;

    private Builder() {
      thresholds.put(DriftMetric.PSI, 0.2);
      thresholds.put(DriftMetric.KS_STATISTIC, 0.1);
      thresholds.put(DriftMetric.NAN_RATE, 0.01);
      thresholds.put(DriftMetric.OUT_OF_RANGE_RATE, 0.05);
    }

    /**
     * The input tensor whose columns are the features. Default: the model's single float32 or
     * float64 input.
     *
     * @param name the input name
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder input(String name) {
      Objects.requireNonNull(name, "name");
      if (input != null) {
        throw new IllegalStateException("input was already set to '" + input + "'");
      }
      this.input = name;
      return this;
    }

    /**
     * The feature names, one per input column, in order. Default: the baseline's features other
     * than the prediction, else {@code f0, f1, ...}.
     *
     * @param names the names, distinct and not {@value DriftBaseline#PREDICTION}
     * @return this builder
     * @throws IllegalArgumentException if empty, repeated or blank names are given
     * @throws IllegalStateException if already set
     */
    public Builder featureNames(List<String> names) {
      Objects.requireNonNull(names, "names");
      if (featureNames != null) {
        throw new IllegalStateException("featureNames was already set");
      }
      List<String> copy = List.copyOf(names);
      if (copy.isEmpty()
          || copy.stream().distinct().count() != copy.size()
          || copy.stream().anyMatch(String::isBlank)
          || copy.contains(DriftBaseline.PREDICTION)) {
        throw new IllegalArgumentException(
            "featureNames must be distinct, non-blank, at least one, and not '"
                + DriftBaseline.PREDICTION
                + "', but were "
                + copy);
      }
      this.featureNames = copy;
      return this;
    }

    /**
     * Monitors this column of this output as the prediction. Default: the last column of the
     * model's first floating-point output.
     *
     * @param output the output name
     * @param column the column, 0-based, of a {@code [rows, columns]} output; ignored for outputs
     *     with one value per row
     * @return this builder
     * @throws IllegalArgumentException if {@code column} is negative
     * @throws IllegalStateException if the prediction was already configured or ignored
     */
    public Builder prediction(String output, int column) {
      Objects.requireNonNull(output, "output");
      if (column < 0) {
        throw new IllegalArgumentException("prediction column must be >= 0 but was " + column);
      }
      checkPrediction("prediction");
      this.predictionOutput = output;
      this.predictionColumn = column;
      return this;
    }

    /**
     * Does not monitor the prediction, only the input features.
     *
     * @return this builder
     * @throws IllegalStateException if the prediction was already configured or ignored
     */
    public Builder ignorePrediction() {
      checkPrediction("ignorePrediction");
      this.ignorePrediction = true;
      return this;
    }

    /**
     * Compares every version with this baseline.
     *
     * @param baseline the baseline
     * @return this builder
     * @throws IllegalStateException if a baseline source was already set
     */
    public Builder baseline(DriftBaseline baseline) {
      Objects.requireNonNull(baseline, "baseline");
      Optional<DriftBaseline> fixed = Optional.of(baseline);
      return baselines(v -> fixed, "fixed " + baseline);
    }

    /**
     * Finds each version's baseline with this function, called once per version, on the thread of
     * its first observed call; empty means the version has no baseline.
     *
     * @param baselines the function
     * @return this builder
     * @throws IllegalStateException if a baseline source was already set
     */
    public Builder baselines(Function<ModelVersion, Optional<DriftBaseline>> baselines) {
      Objects.requireNonNull(baselines, "baselines");
      return baselines(baselines, "function " + baselines);
    }

    /**
     * Reads each version's baseline from its attachment of this name (conventionally {@link
     * DriftBaseline#ATTACHMENT_NAME}), once per version, on the thread of its first observed call.
     * A version without it is monitored without a baseline; an unreadable one is logged.
     *
     * @param registry the registry the versions come from
     * @param attachmentName the attachment name
     * @return this builder
     * @throws IllegalStateException if a baseline source was already set
     */
    public Builder baselineAttachment(ModelRegistry registry, String attachmentName) {
      Objects.requireNonNull(registry, "registry");
      Objects.requireNonNull(attachmentName, "attachmentName");
      return baselines(
          v -> registry.attachment(v, attachmentName).map(DriftBaseline::fromBytes),
          "attachment '" + attachmentName + "'");
    }

    private Builder baselines(
        Function<ModelVersion, Optional<DriftBaseline>> f, String description) {
      if (baselines != null) {
        throw new IllegalStateException(
            "the baseline source was already set ("
                + baselineDescription
                + "); choose one of baseline, baselines,"
                + " baselineAttachment");
      }
      this.baselines = f;
      this.baselineDescription = description;
      return this;
    }

    /**
     * Rows in each version's sliding window. Default {@value DriftMonitor#DEFAULT_WINDOW}.
     *
     * @param rows from 1 to 10,000,000
     * @return this builder
     * @throws IllegalArgumentException if out of range
     * @throws IllegalStateException if already set
     */
    public Builder window(int rows) {
      if (rows < 1 || rows > 10_000_000) {
        throw new IllegalArgumentException(
            "window must be between 1 and 10000000 rows but was " + rows);
      }
      if (window != 0) {
        throw new IllegalStateException("window was already set to " + window);
      }
      this.window = rows;
      return this;
    }

    /**
     * Evaluates a version's window each time this many rows have been observed, once the window is
     * full. Default: the window size.
     *
     * @param rows at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     * @throws IllegalStateException if already set
     */
    public Builder evaluateEvery(int rows) {
      if (rows < 1) {
        throw new IllegalArgumentException("evaluateEvery must be at least 1 row but was " + rows);
      }
      if (evaluateEvery != 0) {
        throw new IllegalStateException("evaluateEvery was already set to " + evaluateEvery);
      }
      this.evaluateEvery = rows;
      return this;
    }

    /**
     * Most versions monitored at once. Default {@value DriftMonitor#DEFAULT_MAX_VERSIONS}.
     *
     * @param versions at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     * @throws IllegalStateException if already set
     */
    public Builder maxVersions(int versions) {
      if (versions < 1) {
        throw new IllegalArgumentException("maxVersions must be at least 1 but was " + versions);
      }
      if (maxVersions != 0) {
        throw new IllegalStateException("maxVersions was already set to " + maxVersions);
      }
      this.maxVersions = versions;
      return this;
    }

    /**
     * Alarms when {@code metric} crosses {@code threshold} (see {@link DriftMetric#breaches}).
     *
     * @param metric the measure
     * @param threshold PSI: at least 0; KS statistic and rates: from 0 to 1; p-value: above 0 and
     *     below 1
     * @return this builder
     * @throws IllegalArgumentException if the threshold is out of range for the metric
     * @throws IllegalStateException if this metric's threshold was already set or removed
     */
    public Builder threshold(DriftMetric metric, double threshold) {
      Objects.requireNonNull(metric, "metric");
      boolean valid;
      switch (metric) {
        case PSI:
          valid = threshold >= 0.0 && threshold < Double.POSITIVE_INFINITY;
          break;
        case KS_P_VALUE:
          valid = threshold > 0.0 && threshold < 1.0;
          break;
        default:
          valid = threshold >= 0.0 && threshold <= 1.0;
      }
      if (!valid) {
        throw new IllegalArgumentException(
            "threshold for " + metric + " is out of range: " + threshold);
      }
      checkThreshold(metric);
      thresholds.put(metric, threshold);
      return this;
    }

    /**
     * Never alarms on {@code metric}; it is still measured.
     *
     * @param metric the measure
     * @return this builder
     * @throws IllegalStateException if this metric's threshold was already set or removed
     */
    public Builder noThreshold(DriftMetric metric) {
      Objects.requireNonNull(metric, "metric");
      checkThreshold(metric);
      thresholds.remove(metric);
      return this;
    }

    /**
     * Receives every alarm raised or cleared. Default: none (alarms are still logged at INFO and
     * kept in {@link DriftMonitor#activeAlarms()}).
     *
     * @param listener the listener
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder listener(DriftAlarmListener listener) {
      Objects.requireNonNull(listener, "listener");
      if (this.listener != null) {
        throw new IllegalStateException("listener was already set; combine listeners in one");
      }
      this.listener = listener;
      return this;
    }

    /**
     * Runs interval evaluations on this executor instead of the prediction thread that completed
     * the interval. Default: that prediction thread.
     *
     * @param executor the executor; the caller keeps ownership
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder executor(Executor executor) {
      Objects.requireNonNull(executor, "executor");
      if (this.executor != null) {
        throw new IllegalStateException("executor was already set");
      }
      this.executor = executor;
      return this;
    }

    /**
     * The clock of evaluation and alarm times. Default: system UTC.
     *
     * @param clock the clock
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder clock(Clock clock) {
      Objects.requireNonNull(clock, "clock");
      if (this.clock != null) {
        throw new IllegalStateException("clock was already set");
      }
      this.clock = clock;
      return this;
    }

    /**
     * Builds the monitor.
     *
     * @return a new monitor with no version monitored yet
     */
    public DriftMonitor build() {
      return new DriftMonitor(this);
    }

    private void checkPrediction(String option) {
      if (predictionSet) {
        throw new IllegalStateException(
            option
                + ": the prediction was already configured; use either prediction(...) or ignorePrediction(), once");
      }
      predictionSet = true;
    }

    private void checkThreshold(DriftMetric metric) {
      if (thresholdsSet.put(metric, Boolean.TRUE) != null) {
        throw new IllegalStateException(
            "the threshold of " + metric + " was already set or removed");
      }
    }
  }
}
