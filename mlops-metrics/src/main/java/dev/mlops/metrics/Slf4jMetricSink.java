package dev.mlops.metrics;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleEvent.AliasDeleted;
import dev.mlops.api.event.LifecycleEvent.AliasMoved;
import dev.mlops.api.event.LifecycleEvent.ModelLoadFailed;
import dev.mlops.api.event.LifecycleEvent.ModelLoaded;
import dev.mlops.api.event.LifecycleEvent.ModelUnloaded;
import dev.mlops.api.event.LifecycleEvent.SwapRefused;
import dev.mlops.api.event.LifecycleEvent.VersionArchived;
import dev.mlops.api.event.LifecycleEvent.VersionDeleted;
import dev.mlops.api.event.LifecycleEvent.VersionRegistered;
import dev.mlops.api.event.LifecycleEvent.VersionSwapped;
import dev.mlops.api.event.LifecycleEvent.WarmUpFailed;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.api.spi.ShadowEvent;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * A {@link MetricSink} that writes one structured {@code key=value} line per event through SLF4J.
 *
 * <p>Predictions are logged at {@code DEBUG} (or {@code TRACE}, see {@link Builder#level}), never
 * higher, as
 *
 * <pre>
 * {@code prediction model=cancer version=2 outcome=success latency_us=123 queue_us=0 batch=1 key=req-42}
 * </pre>
 *
 * Successful predictions are sampled: each is logged with probability {@link Builder#sampleRate}.
 * Predictions with any other outcome are never sampled away. Rollouts' shadow copies are logged the
 * same way, as {@code shadow} lines ({@link #onShadow}). Lifecycle events are logged at {@code
 * INFO}, except {@link ModelLoadFailed}, logged at {@code WARN} with its cause attached:
 *
 * <pre>
 * {@code lifecycle event=alias_moved model=cancer alias=production from=1 to=2 actor=alice reason=rollout}
 * </pre>
 *
 * Values that are empty or contain spaces, quotes, {@code =}, backslashes or control characters are
 * written in double quotes with {@code \"}, {@code \\}, {@code \n}, {@code \r}, {@code \t} and
 * {@code \}{@code uXXXX} escapes, so a request key cannot forge a log line. Latencies are whole
 * microseconds, rounded down.
 *
 * <p><b>Thread-safety.</b> Instances are immutable and thread-safe. When the prediction level is
 * disabled, {@link #onPrediction} returns after one level check: no sampling draw, no formatting.
 * Sampling draws from {@link ThreadLocalRandom}, so threads do not contend. Nothing here blocks
 * beyond what the SLF4J backend does.
 */
public final class Slf4jMetricSink implements MetricSink {

  private final Logger logger;
  private final double sampleRate;
  private final Level level;
  private final DoubleSupplier random;

  /** For tests: a recording logger and a deterministic random source. */
  Slf4jMetricSink(Logger logger, double sampleRate, Level level, DoubleSupplier random) {
    this.logger = Objects.requireNonNull(logger, "logger");
    this.sampleRate = checkSampleRate(sampleRate);
    this.level = checkLevel(level);
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * A new builder; every option has a default, so {@code builder().build()} works. The builder is
   * not thread-safe; the sink it builds is.
   *
   * @return a new builder with no option set
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Logs the prediction at the configured level if that level is enabled and, for successful
   * predictions only, the sampling draw lets it through. Thread-safe; never throws for bookkeeping
   * reasons.
   */
  @Override
  public void onPrediction(PredictionEvent event) {
    boolean trace = level == Level.TRACE;
    if (trace ? !logger.isTraceEnabled() : !logger.isDebugEnabled()) {
      return;
    }
    if (event.outcome() == Outcome.SUCCESS && !sampled()) {
      return;
    }
    String line =
        new Line("prediction")
            .add("model", event.model())
            .add("version", event.version())
            .add("outcome", event.outcome().tag())
            .add("latency_us", event.latencyNanos() / 1_000L)
            .add("queue_us", event.queueNanos() / 1_000L)
            .add("batch", event.batchSize())
            .add("key", event.requestKey())
            .toString();
    if (trace) {
      logger.trace(line);
    } else {
      logger.debug(line);
    }
  }

  /**
   * Logs a rollout's shadow copy at the prediction level, like a prediction:
   *
   * <pre>
   * {@code shadow model=cancer rollout=r-7 stable=1 candidate=2 outcome=success latency_us=95 max_abs_diff=0.0125 argmax_changed=false}
   * {@code shadow model=cancer rollout=r-7 stable=1 candidate=2 outcome=overloaded dropped=true}
   * </pre>
   *
   * Copies that succeeded with the same arg-max, and dropped copies (a saturated shadow drops
   * many), are sampled at {@link Builder#sampleRate}; failed copies and copies whose arg-max
   * changed are never sampled away. The difference is written with Java's shortest round-trip form
   * ({@code Infinity} when shapes differed); a copy without a comparison has neither field.
   * Thread-safe.
   */
  @Override
  public void onShadow(ShadowEvent event) {
    boolean trace = level == Level.TRACE;
    if (trace ? !logger.isTraceEnabled() : !logger.isDebugEnabled()) {
      return;
    }
    boolean notable =
        !event.dropped()
            && (event.outcome() != Outcome.SUCCESS
                || event.comparison().map(ShadowEvent.Comparison::argmaxDiffers).orElse(false));
    if (!notable && !sampled()) {
      return;
    }
    Line line =
        new Line("shadow")
            .add("model", event.model())
            .add("rollout", event.rollout())
            .add("stable", event.stableVersion())
            .add("candidate", event.candidateVersion())
            .add("outcome", event.outcome().tag());
    if (event.dropped()) {
      line.add("dropped", "true");
    } else {
      line.add("latency_us", event.latencyNanos() / 1_000L);
      event
          .comparison()
          .ifPresent(
              c ->
                  line.add("max_abs_diff", Double.toString(c.maxAbsDifference()))
                      .add("argmax_changed", Boolean.toString(c.argmaxDiffers())));
    }
    if (trace) {
      logger.trace(line.toString());
    } else {
      logger.debug(line.toString());
    }
  }

  /**
   * Logs the lifecycle event at {@code INFO}, or at {@code WARN} for {@link ModelLoadFailed} (with
   * the cause) and {@link SwapRefused}. Never sampled. Thread-safe.
   */
  @Override
  public void onLifecycle(LifecycleEvent event) {
    if (event instanceof ModelLoadFailed) {
      ModelLoadFailed e = (ModelLoadFailed) event;
      if (logger.isWarnEnabled()) {
        logger.warn(formatLifecycle(e), e.cause());
      }
    } else if (event instanceof SwapRefused) {
      if (logger.isWarnEnabled()) {
        logger.warn(formatLifecycle(event));
      }
    } else if (logger.isInfoEnabled()) {
      logger.info(formatLifecycle(event));
    }
  }

  /**
   * Describes the configuration, e.g. {@code Slf4jMetricSink[logger=x, level=DEBUG,
   * sampleRate=0.1]}.
   */
  @Override
  public String toString() {
    return "Slf4jMetricSink[logger="
        + logger.getName()
        + ", level="
        + level
        + ", sampleRate="
        + sampleRate
        + "]";
  }

  private boolean sampled() {
    if (sampleRate >= 1.0) {
      return true;
    }
    if (sampleRate <= 0.0) {
      return false;
    }
    return random.getAsDouble() < sampleRate;
  }

  static String formatLifecycle(LifecycleEvent event) {
    Line line = new Line("lifecycle");
    if (event instanceof VersionRegistered) {
      VersionRegistered e = (VersionRegistered) event;
      line.add("event", "version_registered")
          .add("model", e.model())
          .add("version", e.version().version())
          .add("actor", e.version().createdBy());
    } else if (event instanceof AliasMoved) {
      AliasMoved e = (AliasMoved) event;
      line.add("event", "alias_moved")
          .add("model", e.model())
          .add("alias", e.alias())
          .add("from", e.fromVersion())
          .add("to", e.toVersion())
          .add("actor", e.actor())
          .add("reason", e.reason());
    } else if (event instanceof AliasDeleted) {
      AliasDeleted e = (AliasDeleted) event;
      line.add("event", "alias_deleted")
          .add("model", e.model())
          .add("alias", e.alias())
          .add("from", e.fromVersion())
          .add("actor", e.actor());
    } else if (event instanceof VersionArchived) {
      VersionArchived e = (VersionArchived) event;
      line.add("event", "version_archived")
          .add("model", e.model())
          .add("version", e.version())
          .add("actor", e.actor());
    } else if (event instanceof VersionDeleted) {
      VersionDeleted e = (VersionDeleted) event;
      line.add("event", "version_deleted")
          .add("model", e.model())
          .add("version", e.version())
          .add("actor", e.actor());
    } else if (event instanceof ModelLoaded) {
      ModelLoaded e = (ModelLoaded) event;
      line.add("event", "model_loaded")
          .add("model", e.model())
          .add("version", e.version())
          .add("load_ms", e.loadNanos() / 1_000_000L);
    } else if (event instanceof ModelLoadFailed) {
      ModelLoadFailed e = (ModelLoadFailed) event;
      line.add("event", "model_load_failed")
          .add("model", e.model())
          .add("version", e.version())
          .add("error", e.cause() == null ? "unknown" : e.cause().toString());
    } else if (event instanceof VersionSwapped) {
      VersionSwapped e = (VersionSwapped) event;
      line.add("event", "version_swapped")
          .add("model", e.model())
          .add("target", e.target())
          .add("from", e.fromVersion())
          .add("to", e.toVersion());
    } else if (event instanceof ModelUnloaded) {
      ModelUnloaded e = (ModelUnloaded) event;
      line.add("event", "model_unloaded").add("model", e.model()).add("version", e.version());
    } else if (event instanceof WarmUpFailed) {
      WarmUpFailed e = (WarmUpFailed) event;
      line.add("event", "warm_up_failed")
          .add("model", e.model())
          .add("version", e.version())
          .add("inputs", e.inputs())
          .add("error", e.cause() == null ? "unknown" : e.cause().toString());
    } else if (event instanceof SwapRefused) {
      SwapRefused e = (SwapRefused) event;
      line.add("event", "swap_refused")
          .add("model", e.model())
          .add("target", e.target())
          .add("serving", e.fromVersion())
          .add("refused", e.toVersion())
          .add("differences", String.join("; ", e.differences()));
    } else {
      // LifecycleEvent is sealed; this only runs against a newer API with a type added.
      line.add("event", event.getClass().getSimpleName()).add("model", event.model());
    }
    return line.toString();
  }

  static double checkSampleRate(double sampleRate) {
    if (!(sampleRate >= 0.0 && sampleRate <= 1.0)) {
      throw new IllegalArgumentException(
          "sampleRate must be between 0.0 and 1.0 inclusive but was " + sampleRate);
    }
    return sampleRate;
  }

  static Level checkLevel(Level level) {
    Objects.requireNonNull(level, "level");
    if (level != Level.DEBUG && level != Level.TRACE) {
      throw new IllegalArgumentException(
          "level must be DEBUG or TRACE (predictions are on the hot path, which never logs above"
              + " DEBUG) but was "
              + level);
    }
    return level;
  }

  /** Builds a {@code key=value} line, quoting values that need it. */
  private static final class Line {
    private final StringBuilder sb = new StringBuilder(128);

    Line(String kind) {
      sb.append(kind);
    }

    Line add(String key, long value) {
      sb.append(' ').append(key).append('=').append(value);
      return this;
    }

    Line add(String key, String value) {
      sb.append(' ').append(key).append('=');
      if (value == null) {
        sb.append("null");
      } else if (needsQuotes(value)) {
        appendQuoted(value);
      } else {
        sb.append(value);
      }
      return this;
    }

    private static boolean needsQuotes(String value) {
      if (value.isEmpty()) {
        return true;
      }
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || Character.isISOControl(c)) {
          return true;
        }
      }
      return false;
    }

    private void appendQuoted(String value) {
      sb.append('"');
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        switch (c) {
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          case '\n' -> sb.append("\\n");
          case '\r' -> sb.append("\\r");
          case '\t' -> sb.append("\\t");
          default -> {
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
              sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
              sb.append(c);
            }
          }
        }
      }
      sb.append('"');
    }

    @Override
    public String toString() {
      return sb.toString();
    }
  }

  /**
   * Builds a {@link Slf4jMetricSink}. Each option may be set at most once; an invalid value fails
   * at once with an exception naming the option. Not thread-safe: build on one thread, then share
   * the sink.
   */
  public static final class Builder {
    private String loggerName;
    private double sampleRate = Double.NaN;
    private Level level;

    private Builder() {}

    /**
     * The SLF4J logger to write to. Default: {@code dev.mlops.metrics.Slf4jMetricSink}.
     *
     * @param loggerName the logger name
     * @return this builder
     * @throws NullPointerException if {@code loggerName} is null
     * @throws IllegalArgumentException if {@code loggerName} is blank
     * @throws IllegalStateException if the logger name was already set
     */
    public Builder loggerName(String loggerName) {
      Objects.requireNonNull(loggerName, "loggerName");
      if (loggerName.isBlank()) {
        throw new IllegalArgumentException(
            "loggerName must not be blank but was '" + loggerName + "'");
      }
      if (this.loggerName != null) {
        throw new IllegalStateException("loggerName was already set to '" + this.loggerName + "'");
      }
      this.loggerName = loggerName;
      return this;
    }

    /**
     * The fraction of successful predictions to log, from 0.0 (none) to 1.0 (all). Predictions with
     * any other outcome are always logged. Default: 1.0.
     *
     * @param sampleRate probability of logging each successful prediction
     * @return this builder
     * @throws IllegalArgumentException if {@code sampleRate} is NaN or outside [0.0, 1.0]
     * @throws IllegalStateException if the sample rate was already set
     */
    public Builder sampleRate(double sampleRate) {
      checkSampleRate(sampleRate);
      if (!Double.isNaN(this.sampleRate)) {
        throw new IllegalStateException("sampleRate was already set to " + this.sampleRate);
      }
      this.sampleRate = sampleRate;
      return this;
    }

    /**
     * The level of prediction lines: {@link Level#DEBUG} (default) or {@link Level#TRACE}.
     * Lifecycle events are always logged at INFO or WARN.
     *
     * @param level the level of prediction lines
     * @return this builder
     * @throws NullPointerException if {@code level} is null
     * @throws IllegalArgumentException if {@code level} is above DEBUG
     * @throws IllegalStateException if the level was already set
     */
    public Builder level(Level level) {
      checkLevel(level);
      if (this.level != null) {
        throw new IllegalStateException("level was already set to " + this.level);
      }
      this.level = level;
      return this;
    }

    /**
     * Builds the sink. The builder may be used again to build another sink with the same options.
     *
     * @return a new, thread-safe sink
     */
    public Slf4jMetricSink build() {
      Logger logger =
          LoggerFactory.getLogger(
              loggerName != null ? loggerName : Slf4jMetricSink.class.getName());
      return new Slf4jMetricSink(
          logger,
          Double.isNaN(sampleRate) ? 1.0 : sampleRate,
          level != null ? level : Level.DEBUG,
          () -> ThreadLocalRandom.current().nextDouble());
    }
  }
}
