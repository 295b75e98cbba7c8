package dev.mlops.spring.boot;

import dev.mlops.api.Codec;
import dev.mlops.api.Codecs;
import dev.mlops.api.InvalidModelRefException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.Predictor;
import dev.mlops.api.SessionOptions;
import dev.mlops.runtime.BatchingOptions;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.PredictorBuilder;
import dev.mlops.runtime.SwapMode;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Makes the predictors configured under {@code mlops.predictors.<name>}: with the default {@code
 * float[]} codec for the predictor beans, or with the application's own codec.
 *
 * <pre>{@code
 * @Bean
 * Predictor<Applicant, Score> scoring(PredictorFactory predictors) {
 *   return predictors.create("scoring", new ApplicantCodec());
 * }
 * }</pre>
 *
 * <p>A bean of the name {@code <name>} declared by the application replaces the default predictor
 * bean of that name. The factory remembers the predictor it made for each name, which is what the
 * health contributors and the {@code mlops} endpoint report. Thread-safe.
 */
public final class PredictorFactory {

  private static final String REFS =
      "a model reference: models:/<name>/<version>, models:/<name>@<alias> or models:/<name>";

  private final Mlops mlops;
  private final MlopsProperties properties;
  private final Map<String, Predictor<?, ?>> made =
      Collections.synchronizedMap(new LinkedHashMap<>());

  /**
   * A factory over a runtime and the bound properties.
   *
   * @param mlops the runtime that serves the predictors
   * @param properties the bound {@code mlops.*} properties
   */
  public PredictorFactory(Mlops mlops, MlopsProperties properties) {
    this.mlops = Objects.requireNonNull(mlops, "mlops");
    this.properties = Objects.requireNonNull(properties, "properties");
  }

  /**
   * The predictor {@code mlops.predictors.<name>} configures, with the built-in {@code float[]} row
   * codec ({@link Codecs#floatRow(String)} on {@code .output}, or the first output).
   */
  public Predictor<float[], float[]> create(String name) {
    MlopsProperties.Predictor p = configuration(name);
    return create(name, p.getOutput() == null ? Codecs.floatRow() : Codecs.floatRow(p.getOutput()));
  }

  /**
   * The predictor {@code mlops.predictors.<name>} configures, with the application's codec.
   *
   * @throws MlopsPropertyException if a property of that predictor is missing or invalid
   * @throws IllegalStateException if a predictor of that name was made already
   */
  public <I, O> Predictor<I, O> create(String name, Codec<I, O> codec) {
    Objects.requireNonNull(codec, "codec");
    MlopsProperties.Predictor p = configuration(name);
    String key = key(name);
    ModelRef ref;
    try {
      ref = ModelRef.parse(p.getModel());
    } catch (InvalidModelRefException e) {
      throw new MlopsPropertyException(key + ".model", p.getModel(), REFS, e);
    }
    PredictorBuilder<I, O> b = mlops.newPredictor(ref, codec);
    if (p.getSwapMode() != SwapMode.AVAILABILITY_PRESERVING) {
      b.swapMode(p.getSwapMode());
    }
    if (p.getSwapGapTimeout() != null) {
      b.swapGapTimeout(positive(key + ".swap-gap-timeout", p.getSwapGapTimeout()));
    }
    if (p.getKeepWarm() != 0) {
      if (p.getKeepWarm() < 0) {
        throw new MlopsPropertyException(
            key + ".keep-warm", String.valueOf(p.getKeepWarm()), "a count >= 0", null);
      }
      b.keepWarm(p.getKeepWarm());
    }
    if (p.getWarmUp() != null) {
      b.warmUp(p.getWarmUp());
    }
    Duration deadline =
        p.getDeadline() == null ? null : positive(key + ".deadline", p.getDeadline());
    if (p.getBatching().isEnabled()) {
      b.batching(batching(key + ".batching", p.getBatching(), deadline));
    }
    if (p.getSession().isSet()) {
      b.sessionOptions(session(key + ".session", p.getSession()));
    }
    if (deadline != null) {
      b.defaultDeadline(deadline);
    }
    Predictor<I, O> predictor = b.build();
    synchronized (made) {
      if (made.containsKey(name)) {
        predictor.close();
        throw new IllegalStateException(
            "a predictor named '" + name + "' was made already; each name makes one predictor");
      }
      made.put(name, predictor);
    }
    return predictor;
  }

  /** The predictor made for {@code name}, if any. */
  public Optional<Predictor<?, ?>> made(String name) {
    return Optional.ofNullable(made.get(name));
  }

  /** The names under {@code mlops.predictors}, in configuration order. */
  public java.util.List<String> names() {
    return java.util.List.copyOf(properties.getPredictors().keySet());
  }

  /** The configuration of {@code name}. */
  MlopsProperties.Predictor configuration(String name) {
    Objects.requireNonNull(name, "name");
    MlopsProperties.Predictor p = properties.getPredictors().get(name);
    if (p == null) {
      throw new MlopsPropertyException(
          key(name) + ".model",
          null,
          REFS + " (configured predictors: " + properties.getPredictors().keySet() + ")",
          null);
    }
    if (p.getModel() == null || p.getModel().isBlank()) {
      throw new MlopsPropertyException(key(name) + ".model", null, REFS, null);
    }
    return p;
  }

  static String key(String name) {
    return MlopsProperties.PREFIX + ".predictors." + name;
  }

  private static Duration positive(String key, Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new MlopsPropertyException(key, d.toString(), "a positive duration, e.g. 50ms", null);
    }
    return d;
  }

  private static BatchingOptions batching(
      String key, MlopsProperties.Batching p, Duration deadline) {
    BatchingOptions.Builder b = BatchingOptions.builder();
    try {
      if (p.getMaxBatchSize() != null) {
        b.maxBatchSize(p.getMaxBatchSize());
      }
      if (p.getMaxQueueDelay() != null) {
        b.maxQueueDelay(p.getMaxQueueDelay());
      }
      if (!p.getPreferredBatchSizes().isEmpty()) {
        b.preferredBatchSizes(
            p.getPreferredBatchSizes().stream().mapToInt(Integer::intValue).toArray());
      }
      if (p.getMaxQueueSize() != null) {
        b.maxQueueSize(p.getMaxQueueSize());
      }
      if (p.getWorkers() != null) {
        b.workers(p.getWorkers());
      }
      if (deadline != null) {
        b.defaultTimeout(deadline);
      }
      return b.build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new MlopsPropertyException(
          key + ".*",
          describe(p),
          "max-batch-size >= 1, max-queue-delay >= 0, preferred-batch-sizes within"
              + " 1..max-batch-size, max-queue-size >= 1, workers >= 1",
          e);
    }
  }

  private static String describe(MlopsProperties.Batching p) {
    return "max-batch-size="
        + p.getMaxBatchSize()
        + ", max-queue-delay="
        + p.getMaxQueueDelay()
        + ", preferred-batch-sizes="
        + p.getPreferredBatchSizes()
        + ", max-queue-size="
        + p.getMaxQueueSize()
        + ", workers="
        + p.getWorkers();
  }

  private static SessionOptions session(String key, MlopsProperties.Session s) {
    SessionOptions.Builder b = SessionOptions.builder();
    if (s.getIntraOpThreads() != null) {
      b.intraOpThreads(threads(key + ".intra-op-threads", s.getIntraOpThreads()));
    }
    if (s.getInterOpThreads() != null) {
      b.interOpThreads(threads(key + ".inter-op-threads", s.getInterOpThreads()));
    }
    if (s.getOptimizationLevel() != null) {
      b.optimizationLevel(s.getOptimizationLevel());
    }
    if (s.getExecutionMode() != null) {
      b.executionMode(s.getExecutionMode());
    }
    if (s.getNativeLogLevel() != null) {
      b.nativeLogLevel(s.getNativeLogLevel());
    }
    return b.build();
  }

  private static int threads(String key, int n) {
    if (n < 0) {
      throw new MlopsPropertyException(
          key, String.valueOf(n), "a thread count >= 0 (0: the engine chooses)", null);
    }
    return n;
  }
}
