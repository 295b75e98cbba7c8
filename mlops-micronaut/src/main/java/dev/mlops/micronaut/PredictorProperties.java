package dev.mlops.micronaut;

import dev.mlops.api.Codec;
import dev.mlops.api.Codecs;
import dev.mlops.api.InvalidModelRefException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.runtime.BatchingOptions;
import dev.mlops.runtime.PredictorBuilder;
import dev.mlops.runtime.SwapMode;
import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.EachProperty;
import io.micronaut.context.annotation.Parameter;
import io.micronaut.context.exceptions.ConfigurationException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One predictor, under {@code mlops.predictors.<name>}; each entry makes one {@code Predictor} bean
 * qualified {@code @Named("<name>")}.
 *
 * <ul>
 *   <li>{@code model} (required): the reference it serves, {@code models:/fraud@production}, {@code
 *       models:/fraud/3} or {@code models:/fraud}.
 *   <li>{@code codec}: {@code float-row} (default: {@code float[]} in and out), {@code
 *       float-batch}, {@code named-inputs} or {@code tensors}; {@code output}: the output a float
 *       codec reads (default: the first).
 *   <li>{@code swap-mode} ({@code availability-preserving, resource-preserving}), {@code
 *       swap-gap-timeout}, {@code keep-warm} (versions), {@code warm-up} ({@code best-effort,
 *       require-input-example, none}), {@code warm-up-deadline}.
 *   <li>{@code deadline}: the deadline of every call made without one.
 *   <li>{@code max-input-elements}, {@code allow-empty-tensors}, {@code
 *       accept-incompatible-versions}.
 *   <li>{@code batching.enabled} and {@code batching.max-batch-size}, {@code .max-queue-delay},
 *       {@code .preferred-batch-sizes}, {@code .max-queue-size}, {@code .workers}.
 *   <li>{@code session.*}: session options of this predictor's own (see {@link SessionProperties}).
 * </ul>
 *
 * <p>Not thread-safe: Micronaut fills it once at startup.
 */
@EachProperty("mlops.predictors")
public class PredictorProperties {

  /** The codecs a predictor can be configured with. */
  enum CodecKind {
    FLOAT_ROW,
    FLOAT_BATCH,
    NAMED_INPUTS,
    TENSORS
  }

  private final String name;
  private String model;
  private String codec;
  private String output;
  private String swapMode;
  private String swapGapTimeout;
  private Integer keepWarm;
  private String warmUp;
  private String warmUpDeadline;
  private String deadline;
  private Long maxInputElements;
  private boolean allowEmptyTensors;
  private boolean acceptIncompatibleVersions;
  private Batching batching = new Batching();
  private Session session = new Session();

  /** Made by Micronaut, one per entry. */
  public PredictorProperties(@Parameter String name) {
    this.name = name;
  }

  /** The entry's name, the bean's {@code @Named} qualifier. */
  public String getName() {
    return name;
  }

  /** The model reference served. */
  public void setModel(String model) {
    this.model = model;
  }

  /** The codec. */
  public void setCodec(String codec) {
    this.codec = codec;
  }

  /** The output a float codec reads. */
  public void setOutput(String output) {
    this.output = output;
  }

  /** How the predictor switches versions. */
  public void setSwapMode(String swapMode) {
    this.swapMode = swapMode;
  }

  /** How long a call waits during a resource-preserving swap's gap. */
  public void setSwapGapTimeout(String timeout) {
    this.swapGapTimeout = timeout;
  }

  /** Versions kept loaded for an instant rollback. */
  public void setKeepWarm(Integer versions) {
    this.keepWarm = versions;
  }

  /** The warm-up policy. */
  public void setWarmUp(String policy) {
    this.warmUp = policy;
  }

  /** The deadline of each warm-up run. */
  public void setWarmUpDeadline(String deadline) {
    this.warmUpDeadline = deadline;
  }

  /** The deadline of every call made without one. */
  public void setDeadline(String deadline) {
    this.deadline = deadline;
  }

  /** The most elements one call's inputs may hold. */
  public void setMaxInputElements(Long elements) {
    this.maxInputElements = elements;
  }

  /** Let tensors with a dimension of size 0 through. */
  public void setAllowEmptyTensors(boolean allow) {
    this.allowEmptyTensors = allow;
  }

  /** Switch to versions whose signature is incompatible. */
  public void setAcceptIncompatibleVersions(boolean accept) {
    this.acceptIncompatibleVersions = accept;
  }

  /** Dynamic batching. */
  public Batching getBatching() {
    return batching;
  }

  /** Dynamic batching. */
  public void setBatching(Batching batching) {
    this.batching = batching;
  }

  /** Session options of this predictor's own. */
  public Session getSession() {
    return session;
  }

  /** Session options of this predictor's own. */
  public void setSession(Session session) {
    this.session = session;
  }

  private String property(String key) {
    return "mlops.predictors." + name + "." + key;
  }

  /** The reference, parsed. */
  ModelRef modelRef() {
    if (model == null || model.isBlank()) {
      throw new ConfigurationException(
          property("model")
              + ": expected a model reference such as models:/fraud@production, models:/fraud/3"
              + " or models:/fraud but found none");
    }
    try {
      return ModelRef.parse(model.trim());
    } catch (InvalidModelRefException e) {
      throw new ConfigurationException(property("model") + ": " + e.getMessage(), e);
    }
  }

  CodecKind codecKind() {
    return codec == null
        ? CodecKind.FLOAT_ROW
        : Settings.choice(property("codec"), codec, CodecKind.class);
  }

  /** The codec, for the predictor's builder. */
  Codec<?, ?> codec() {
    CodecKind kind = codecKind();
    if (output != null && (kind == CodecKind.NAMED_INPUTS || kind == CodecKind.TENSORS)) {
      throw new ConfigurationException(
          property("output")
              + ": only the float-row and float-batch codecs read one output, but the codec is "
              + Settings.kebab(kind));
    }
    return switch (kind) {
      case FLOAT_ROW -> output == null ? Codecs.floatRow() : Codecs.floatRow(output);
      case FLOAT_BATCH -> output == null ? Codecs.floatBatch() : Codecs.floatBatch(output);
      case NAMED_INPUTS -> Codecs.namedInputs();
      case TENSORS -> Codecs.tensors();
    };
  }

  /** The default deadline of calls, if one is set. */
  Optional<Duration> deadline() {
    return Optional.ofNullable(deadline)
        .map(d -> Settings.positiveDuration(property("deadline"), d));
  }

  /** The swap mode set, or the runtime's default. */
  SwapMode swapMode() {
    return swapMode == null
        ? SwapMode.AVAILABILITY_PRESERVING
        : Settings.choice(property("swap-mode"), swapMode, SwapMode.class);
  }

  /** Applies these properties to a predictor's builder. */
  <I, O> PredictorBuilder<I, O> applyTo(
      PredictorBuilder<I, O> b, dev.mlops.api.SessionOptions runtimeOptions) {
    b.swapMode(swapMode());
    if (swapGapTimeout != null) {
      b.swapGapTimeout(Settings.positiveDuration(property("swap-gap-timeout"), swapGapTimeout));
    }
    if (keepWarm != null) {
      b.keepWarm((int) Settings.atLeast(property("keep-warm"), keepWarm, 0));
    }
    if (warmUp != null) {
      b.warmUp(Settings.choice(property("warm-up"), warmUp, WarmUpPolicy.class));
    }
    if (warmUpDeadline != null) {
      b.warmUpDeadline(Settings.positiveDuration(property("warm-up-deadline"), warmUpDeadline));
    }
    if (maxInputElements != null) {
      b.maxInputElements(Settings.atLeast(property("max-input-elements"), maxInputElements, 1));
    }
    if (allowEmptyTensors) {
      b.allowEmptyTensors();
    }
    if (acceptIncompatibleVersions) {
      b.acceptIncompatibleVersions();
    }
    if (session.isSet()) {
      b.sessionOptions(session.applyTo(runtimeOptions, property("session")));
    }
    if (batching.enabled) {
      b.batching(batching.options(property("batching"), deadline()));
    } else if (batching.isSet()) {
      throw new ConfigurationException(
          property("batching.enabled")
              + ": expected true when other batching properties are set, but found false");
    }
    return b;
  }

  /** {@code mlops.predictors.<name>.session.*}. */
  @ConfigurationProperties("session")
  public static class Session extends SessionProperties {}

  /** {@code mlops.predictors.<name>.batching.*}. */
  @ConfigurationProperties("batching")
  public static class Batching {
    private boolean enabled;
    private Integer maxBatchSize;
    private String maxQueueDelay;
    private List<Integer> preferredBatchSizes;
    private Integer maxQueueSize;
    private Integer workers;

    /** Turns batching on. */
    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    /** Rows per engine run. */
    public void setMaxBatchSize(Integer rows) {
      this.maxBatchSize = rows;
    }

    /** The longest wait for companions. */
    public void setMaxQueueDelay(String delay) {
      this.maxQueueDelay = delay;
    }

    /** Batch sizes sent at once when nothing else waits. */
    public void setPreferredBatchSizes(List<Integer> sizes) {
      this.preferredBatchSizes = sizes;
    }

    /** Requests queued at most; a full queue fails calls with an overload error. */
    public void setMaxQueueSize(Integer requests) {
      this.maxQueueSize = requests;
    }

    /** Worker threads. */
    public void setWorkers(Integer workers) {
      this.workers = workers;
    }

    boolean isEnabled() {
      return enabled;
    }

    boolean isSet() {
      return maxBatchSize != null
          || maxQueueDelay != null
          || preferredBatchSizes != null
          || maxQueueSize != null
          || workers != null;
    }

    BatchingOptions options(String prefix, Optional<Duration> deadline) {
      BatchingOptions.Builder b = BatchingOptions.builder();
      if (maxBatchSize != null) {
        b.maxBatchSize((int) Settings.atLeast(prefix + ".max-batch-size", maxBatchSize, 1));
      }
      if (maxQueueDelay != null) {
        b.maxQueueDelay(Settings.duration(prefix + ".max-queue-delay", maxQueueDelay));
      }
      if (preferredBatchSizes != null) {
        int[] sizes = new int[preferredBatchSizes.size()];
        for (int i = 0; i < sizes.length; i++) {
          sizes[i] =
              (int)
                  Settings.atLeast(
                      prefix + ".preferred-batch-sizes", preferredBatchSizes.get(i), 1);
        }
        b.preferredBatchSizes(sizes);
      }
      if (maxQueueSize != null) {
        b.maxQueueSize((int) Settings.atLeast(prefix + ".max-queue-size", maxQueueSize, 1));
      }
      if (workers != null) {
        b.workers((int) Settings.atLeast(prefix + ".workers", workers, 1));
      }
      deadline.ifPresent(b::defaultTimeout);
      try {
        return b.build();
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new ConfigurationException(prefix + ": " + e.getMessage(), e);
      }
    }
  }
}
