package dev.mlops.spring.boot;

import dev.mlops.api.SessionOptions;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.runtime.SwapMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * The {@code mlops.*} configuration properties: where the registry is, how the runtime runs, and
 * one entry under {@code mlops.predictors} for each predictor bean.
 *
 * <pre>
 * mlops.registry.url=/var/lib/models
 * mlops.predictors.cancer.model=models:/cancer@production
 * mlops.predictors.cancer.output=probabilities
 * </pre>
 *
 * <p>A JavaBean, as Spring Boot binds and documents it (the generated configuration metadata comes
 * from these fields' comments). Values are checked when the beans are made: a bad one fails startup
 * with a message naming the property and the values it accepts. Not thread-safe; Boot binds it once
 * at startup.
 */
@ConfigurationProperties(prefix = MlopsProperties.PREFIX)
public class MlopsProperties {

  /** The prefix of every property: {@value}. */
  public static final String PREFIX = "mlops";

  private final Registry registry = new Registry();
  private final Runtime runtime = new Runtime();
  private final Metrics metrics = new Metrics();
  private final Endpoint endpoint = new Endpoint();
  private final Map<String, Predictor> predictors = new LinkedHashMap<>();

  /** Creates the defaults. */
  public MlopsProperties() {}

  /** Where models are kept. */
  public Registry getRegistry() {
    return registry;
  }

  /** The runtime's options. */
  public Runtime getRuntime() {
    return runtime;
  }

  /** Which metric sinks the runtime reports to. */
  public Metrics getMetrics() {
    return metrics;
  }

  /** The mlops Actuator endpoint. */
  public Endpoint getEndpoint() {
    return endpoint;
  }

  /** The predictors, by bean name. */
  public Map<String, Predictor> getPredictors() {
    return predictors;
  }

  /** {@code mlops.registry.*}. */
  public static class Registry {
    /**
     * The model registry: a directory path or a file: URI (the embedded registry), "postgresql:"
     * alone (fleet mode on the application's DataSource bean), or a postgresql://host:port/db URI
     * with its own connection pool.
     */
    private String url;

    /**
     * Fleet mode on the application's DataSource: the local directory where artifacts fetched from
     * the database are cached (default: a per-process directory under the temporary directory).
     */
    private String artifactCache;

    /** Creates the defaults. */
    public Registry() {}

    /** The registry URL. */
    public String getUrl() {
      return url;
    }

    /** Sets the registry URL. */
    public void setUrl(String url) {
      this.url = url;
    }

    /** The artifact cache directory of fleet mode on the DataSource. */
    public String getArtifactCache() {
      return artifactCache;
    }

    /** Sets the artifact cache directory. */
    public void setArtifactCache(String artifactCache) {
      this.artifactCache = artifactCache;
    }
  }

  /** {@code mlops.runtime.*}. */
  public static class Runtime {
    /** Memory budget of the session cache, weighed in artifact bytes. */
    private DataSize cacheBudget = DataSize.ofGigabytes(2);

    /** How long closing the runtime waits for calls in flight. */
    private Duration drainTimeout = Duration.ofSeconds(30);

    /** How a new version is warmed up before it serves, unless a predictor sets its own. */
    private WarmUpPolicy warmUp = WarmUpPolicy.BEST_EFFORT;

    /** How long each warm-up run may take. */
    private Duration warmUpDeadline = WarmUpPolicy.DEFAULT_DEADLINE;

    /** Delay each hot swap by a random time up to this, picked once per instance (fleet mode). */
    private Duration staggerSwaps;

    /** Whether this instance takes rollout decisions (steps, promotion, rollback). */
    private boolean rolloutDecisions = true;

    /**
     * Name of an ExecutorService bean that runs predictAsync calls (default: daemon threads of the
     * runtime's own).
     */
    private String executor;

    /**
     * Name of an Executor bean that runs hot swaps (default: daemon threads of the runtime's own).
     */
    private String swapExecutor;

    /** The most rollout shadow copies that may wait or run at once; beyond it they are dropped. */
    private Integer shadowCapacity;

    /** How long a rollout's shadow copy may run on the candidate before it is terminated. */
    private Duration shadowDeadline;

    /**
     * Name of an Executor bean that runs rollouts' shadow copies (default: daemon threads of the
     * runtime's own).
     */
    private String shadowExecutor;

    /** Creates the defaults. */
    public Runtime() {}

    /** The shadow capacity, or null for the runtime's default. */
    public Integer getShadowCapacity() {
      return shadowCapacity;
    }

    /** Sets the shadow capacity. */
    public void setShadowCapacity(Integer shadowCapacity) {
      this.shadowCapacity = shadowCapacity;
    }

    /** The shadow deadline, or null for the runtime's default. */
    public Duration getShadowDeadline() {
      return shadowDeadline;
    }

    /** Sets the shadow deadline. */
    public void setShadowDeadline(Duration shadowDeadline) {
      this.shadowDeadline = shadowDeadline;
    }

    /** The shadow executor bean name, or null. */
    public String getShadowExecutor() {
      return shadowExecutor;
    }

    /** Sets the shadow executor bean name. */
    public void setShadowExecutor(String shadowExecutor) {
      this.shadowExecutor = shadowExecutor;
    }

    /** The session cache budget. */
    public DataSize getCacheBudget() {
      return cacheBudget;
    }

    /** Sets the session cache budget. */
    public void setCacheBudget(DataSize cacheBudget) {
      this.cacheBudget = cacheBudget;
    }

    /** The drain timeout. */
    public Duration getDrainTimeout() {
      return drainTimeout;
    }

    /** Sets the drain timeout. */
    public void setDrainTimeout(Duration drainTimeout) {
      this.drainTimeout = drainTimeout;
    }

    /** The warm-up policy. */
    public WarmUpPolicy getWarmUp() {
      return warmUp;
    }

    /** Sets the warm-up policy. */
    public void setWarmUp(WarmUpPolicy warmUp) {
      this.warmUp = warmUp;
    }

    /** The warm-up deadline. */
    public Duration getWarmUpDeadline() {
      return warmUpDeadline;
    }

    /** Sets the warm-up deadline. */
    public void setWarmUpDeadline(Duration warmUpDeadline) {
      this.warmUpDeadline = warmUpDeadline;
    }

    /** The stagger of hot swaps, or null. */
    public Duration getStaggerSwaps() {
      return staggerSwaps;
    }

    /** Sets the stagger of hot swaps. */
    public void setStaggerSwaps(Duration staggerSwaps) {
      this.staggerSwaps = staggerSwaps;
    }

    /** Whether rollout decisions are taken here. */
    public boolean isRolloutDecisions() {
      return rolloutDecisions;
    }

    /** Sets whether rollout decisions are taken here. */
    public void setRolloutDecisions(boolean rolloutDecisions) {
      this.rolloutDecisions = rolloutDecisions;
    }

    /** The executor bean name, or null. */
    public String getExecutor() {
      return executor;
    }

    /** Sets the executor bean name. */
    public void setExecutor(String executor) {
      this.executor = executor;
    }

    /** The swap executor bean name, or null. */
    public String getSwapExecutor() {
      return swapExecutor;
    }

    /** Sets the swap executor bean name. */
    public void setSwapExecutor(String swapExecutor) {
      this.swapExecutor = swapExecutor;
    }
  }

  /** {@code mlops.metrics.*}. */
  public static class Metrics {
    /** Report to Micrometer (the application's MeterRegistry), when Micrometer is present. */
    private boolean micrometer = true;

    /** Report to SLF4J as structured key=value lines at DEBUG (successes sampled). */
    private boolean slf4j;

    /** Creates the defaults. */
    public Metrics() {}

    /** Whether the Micrometer sink is on. */
    public boolean isMicrometer() {
      return micrometer;
    }

    /** Sets whether the Micrometer sink is on. */
    public void setMicrometer(boolean micrometer) {
      this.micrometer = micrometer;
    }

    /** Whether the SLF4J sink is on. */
    public boolean isSlf4j() {
      return slf4j;
    }

    /** Sets whether the SLF4J sink is on. */
    public void setSlf4j(boolean slf4j) {
      this.slf4j = slf4j;
    }
  }

  /** {@code mlops.endpoint.*}. */
  public static class Endpoint {
    /**
     * Whether the mlops endpoint's write operations (move an alias, start or abort a rollout) are
     * on. Each write needs an authenticated principal, who is named in the registry's audit log.
     */
    private boolean writesEnabled;

    /** Creates the defaults. */
    public Endpoint() {}

    /** Whether writes are on. */
    public boolean isWritesEnabled() {
      return writesEnabled;
    }

    /** Sets whether writes are on. */
    public void setWritesEnabled(boolean writesEnabled) {
      this.writesEnabled = writesEnabled;
    }
  }

  /** {@code mlops.predictors.<name>.*}: one predictor bean, named and qualified {@code <name>}. */
  public static class Predictor {
    /**
     * The model reference: models:/name/3 (a pinned version), models:/name@alias (followed as it
     * moves) or models:/name (the latest version, followed).
     */
    private String model;

    /** The output the default float[] codec returns (default: the model's first output). */
    private String output;

    /** How the predictor moves to a new version. */
    private SwapMode swapMode = SwapMode.AVAILABILITY_PRESERVING;

    /** How long calls wait during a resource-preserving swap's gap. */
    private Duration swapGapTimeout;

    /** Earlier versions kept loaded for an instant rollback. */
    private int keepWarm;

    /** How a new version is warmed up (default: mlops.runtime.warm-up). */
    private WarmUpPolicy warmUp;

    /** The deadline of every call made without one. */
    private Duration deadline;

    private final Batching batching = new Batching();
    private final Session session = new Session();

    /** Creates the defaults. */
    public Predictor() {}

    /** The model reference. */
    public String getModel() {
      return model;
    }

    /** Sets the model reference. */
    public void setModel(String model) {
      this.model = model;
    }

    /** The output name, or null. */
    public String getOutput() {
      return output;
    }

    /** Sets the output name. */
    public void setOutput(String output) {
      this.output = output;
    }

    /** The swap mode. */
    public SwapMode getSwapMode() {
      return swapMode;
    }

    /** Sets the swap mode. */
    public void setSwapMode(SwapMode swapMode) {
      this.swapMode = swapMode;
    }

    /** The swap-gap timeout, or null. */
    public Duration getSwapGapTimeout() {
      return swapGapTimeout;
    }

    /** Sets the swap-gap timeout. */
    public void setSwapGapTimeout(Duration swapGapTimeout) {
      this.swapGapTimeout = swapGapTimeout;
    }

    /** Versions kept warm. */
    public int getKeepWarm() {
      return keepWarm;
    }

    /** Sets the versions kept warm. */
    public void setKeepWarm(int keepWarm) {
      this.keepWarm = keepWarm;
    }

    /** The warm-up policy, or null. */
    public WarmUpPolicy getWarmUp() {
      return warmUp;
    }

    /** Sets the warm-up policy. */
    public void setWarmUp(WarmUpPolicy warmUp) {
      this.warmUp = warmUp;
    }

    /** The default call deadline, or null. */
    public Duration getDeadline() {
      return deadline;
    }

    /** Sets the default call deadline. */
    public void setDeadline(Duration deadline) {
      this.deadline = deadline;
    }

    /** Dynamic batching. */
    public Batching getBatching() {
      return batching;
    }

    /** ONNX Runtime session options. */
    public Session getSession() {
      return session;
    }
  }

  /** {@code mlops.predictors.<name>.batching.*}: dynamic batching, off unless enabled. */
  public static class Batching {
    /** Whether concurrent calls are merged into one engine run. */
    private boolean enabled;

    /** Rows per engine run. */
    private Integer maxBatchSize;

    /** Longest wait for companions before a batch runs. */
    private Duration maxQueueDelay;

    /** Batch sizes sent at once when nothing else waits. */
    private List<Integer> preferredBatchSizes = new ArrayList<>();

    /** Requests that may wait; beyond it a call fails with OverloadedException. */
    private Integer maxQueueSize;

    /** Batching worker threads. */
    private Integer workers;

    /** Creates the defaults. */
    public Batching() {}

    /** Whether batching is on. */
    public boolean isEnabled() {
      return enabled;
    }

    /** Sets whether batching is on. */
    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    /** The maximum batch size, or null. */
    public Integer getMaxBatchSize() {
      return maxBatchSize;
    }

    /** Sets the maximum batch size. */
    public void setMaxBatchSize(Integer maxBatchSize) {
      this.maxBatchSize = maxBatchSize;
    }

    /** The maximum queue delay, or null. */
    public Duration getMaxQueueDelay() {
      return maxQueueDelay;
    }

    /** Sets the maximum queue delay. */
    public void setMaxQueueDelay(Duration maxQueueDelay) {
      this.maxQueueDelay = maxQueueDelay;
    }

    /** The preferred batch sizes. */
    public List<Integer> getPreferredBatchSizes() {
      return preferredBatchSizes;
    }

    /** Sets the preferred batch sizes. */
    public void setPreferredBatchSizes(List<Integer> preferredBatchSizes) {
      this.preferredBatchSizes = preferredBatchSizes;
    }

    /** The maximum queue size, or null. */
    public Integer getMaxQueueSize() {
      return maxQueueSize;
    }

    /** Sets the maximum queue size. */
    public void setMaxQueueSize(Integer maxQueueSize) {
      this.maxQueueSize = maxQueueSize;
    }

    /** The worker count, or null. */
    public Integer getWorkers() {
      return workers;
    }

    /** Sets the worker count. */
    public void setWorkers(Integer workers) {
      this.workers = workers;
    }
  }

  /** {@code mlops.predictors.<name>.session.*}: ONNX Runtime session options. */
  public static class Session {
    /** Threads within one operator (0: the engine chooses). */
    private Integer intraOpThreads;

    /** Threads across independent operators (0: the engine chooses). */
    private Integer interOpThreads;

    /** Graph optimisation level. */
    private SessionOptions.OptimizationLevel optimizationLevel;

    /** Whether independent operators may run at the same time. */
    private SessionOptions.ExecutionMode executionMode;

    /** The least severe native log line the engine writes. */
    private SessionOptions.LogLevel nativeLogLevel;

    /** Creates the defaults. */
    public Session() {}

    /** Intra-op threads, or null. */
    public Integer getIntraOpThreads() {
      return intraOpThreads;
    }

    /** Sets intra-op threads. */
    public void setIntraOpThreads(Integer intraOpThreads) {
      this.intraOpThreads = intraOpThreads;
    }

    /** Inter-op threads, or null. */
    public Integer getInterOpThreads() {
      return interOpThreads;
    }

    /** Sets inter-op threads. */
    public void setInterOpThreads(Integer interOpThreads) {
      this.interOpThreads = interOpThreads;
    }

    /** The optimisation level, or null. */
    public SessionOptions.OptimizationLevel getOptimizationLevel() {
      return optimizationLevel;
    }

    /** Sets the optimisation level. */
    public void setOptimizationLevel(SessionOptions.OptimizationLevel optimizationLevel) {
      this.optimizationLevel = optimizationLevel;
    }

    /** The execution mode, or null. */
    public SessionOptions.ExecutionMode getExecutionMode() {
      return executionMode;
    }

    /** Sets the execution mode. */
    public void setExecutionMode(SessionOptions.ExecutionMode executionMode) {
      this.executionMode = executionMode;
    }

    /** The native log level, or null. */
    public SessionOptions.LogLevel getNativeLogLevel() {
      return nativeLogLevel;
    }

    /** Sets the native log level. */
    public void setNativeLogLevel(SessionOptions.LogLevel nativeLogLevel) {
      this.nativeLogLevel = nativeLogLevel;
    }

    /** Whether any option is set. */
    boolean isSet() {
      return intraOpThreads != null
          || interOpThreads != null
          || optimizationLevel != null
          || executionMode != null
          || nativeLogLevel != null;
    }
  }
}
