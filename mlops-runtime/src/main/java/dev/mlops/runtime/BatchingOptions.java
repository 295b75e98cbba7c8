package dev.mlops.runtime;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;

/**
 * Dynamic batching for one predictor, with Triton's knobs: requests queue up and are merged along
 * the first (batch) dimension into one engine run, and the results go back to each caller in order.
 *
 * <ul>
 *   <li>{@code maxBatchSize} — most rows in one run (default 64);
 *   <li>{@code maxQueueDelay} — longest time the first request of a batch waits for others (default
 *       0, as in Triton: a worker takes whatever is queued when it is free, which keeps the cores
 *       busy under steady load); a single caller's latency is at most this plus one run and a
 *       thread hand-off;
 *   <li>{@code preferredBatchSizes} — sizes at which a batch is sent at once when no more requests
 *       are waiting (default none);
 *   <li>{@code maxQueueSize} — requests that may wait; a full queue rejects at once with {@link
 *       dev.mlops.api.OverloadedException} (default 1024);
 *   <li>{@code workers} — batches that may run at the same time (default: available processors).
 *       One worker gathers the next batch while the others run theirs. For a model whose run takes
 *       a few microseconds, use 1: further workers then mostly split the waiting requests into
 *       smaller batches rather than add compute;
 *   <li>{@code defaultTimeout} — deadline of a request made without one; a request still queued at
 *       its deadline is dropped with {@link dev.mlops.api.PredictionTimeoutException} (default
 *       none). It applies to every call of the predictor, also one that runs on its caller's thread
 *       because nothing else was in flight;
 *   <li>{@code threadFactory} — makes the {@code workers} threads, once, when the predictor is
 *       built (default: daemon threads named {@code mlops-batching-<target>-<n>}). The workers
 *       never take a thread of the runtime's executor. They block while the queue is empty and end
 *       when the predictor closes and its queue has drained.
 * </ul>
 *
 * <p>Batching pays when callers wait cheaply: virtual threads or {@code predictAsync}. A platform
 * thread waiting for its batch is an operating-system context switch each way, which costs more
 * than a small model's whole run (see {@code benchmarks/README.md}).
 *
 * <p>Immutable. Build with {@link #builder()}.
 */
public final class BatchingOptions {

  private final int maxBatchSize;
  private final Duration maxQueueDelay;
  private final int[] preferredBatchSizes;
  private final int maxQueueSize;
  private final int workers;
  private final Duration defaultTimeout;
  private final ThreadFactory threadFactory;

  private BatchingOptions(Builder b) {
    this.maxBatchSize = b.maxBatchSize;
    this.maxQueueDelay = b.maxQueueDelay;
    this.preferredBatchSizes = b.preferredBatchSizes.clone();
    this.maxQueueSize = b.maxQueueSize;
    this.workers = b.workers;
    this.defaultTimeout = b.defaultTimeout;
    this.threadFactory = b.threadFactory;
  }

  /** Starts a builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Most rows in one engine run. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** Longest wait of a batch's first request for others. */
  public Duration maxQueueDelay() {
    return maxQueueDelay;
  }

  /** Sizes sent at once when no more requests wait, ascending. */
  public int[] preferredBatchSizes() {
    return preferredBatchSizes.clone();
  }

  boolean isPreferred(int rows) {
    return Arrays.binarySearch(preferredBatchSizes, rows) >= 0;
  }

  /** Requests that may wait in the queue. */
  public int maxQueueSize() {
    return maxQueueSize;
  }

  /** Batches that may run at the same time. */
  public int workers() {
    return workers;
  }

  /** Deadline of requests made without one; null for none. */
  public Duration defaultTimeout() {
    return defaultTimeout;
  }

  /** The factory of the worker threads; empty for the default daemon threads. */
  public Optional<ThreadFactory> threadFactory() {
    return Optional.ofNullable(threadFactory);
  }

  @Override
  public String toString() {
    return "BatchingOptions[maxBatchSize="
        + maxBatchSize
        + ", maxQueueDelay="
        + maxQueueDelay
        + ", preferred="
        + Arrays.toString(preferredBatchSizes)
        + ", maxQueueSize="
        + maxQueueSize
        + ", workers="
        + workers
        + ", defaultTimeout="
        + defaultTimeout
        + (threadFactory == null ? "" : ", threadFactory=" + threadFactory)
        + "]";
  }

  /** Builder for {@link BatchingOptions}; each option may be set once. Not thread-safe. */
  public static final class Builder {
    private int maxBatchSize = 64;
    private Duration maxQueueDelay = Duration.ZERO;
    private int[] preferredBatchSizes = new int[0];
    private int maxQueueSize = 1024;
    private int workers = Runtime.getRuntime().availableProcessors();
    private Duration defaultTimeout;
    private ThreadFactory threadFactory;
    private final java.util.Set<String> set = new java.util.HashSet<>();

    private Builder() {}

    private void once(String option) {
      if (!set.add(option)) {
        throw new IllegalStateException(option + ": already set");
      }
    }

    /** Most rows in one run, at least 1. */
    public Builder maxBatchSize(int rows) {
      once("maxBatchSize");
      if (rows < 1) {
        throw new IllegalArgumentException("maxBatchSize must be >= 1 but was " + rows);
      }
      this.maxBatchSize = rows;
      return this;
    }

    /** Longest wait of a batch's first request for others; zero sends what is already queued. */
    public Builder maxQueueDelay(Duration delay) {
      once("maxQueueDelay");
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative()) {
        throw new IllegalArgumentException("maxQueueDelay must not be negative: " + delay);
      }
      this.maxQueueDelay = delay;
      return this;
    }

    /** Sizes sent at once when no more requests are waiting. */
    public Builder preferredBatchSizes(int... sizes) {
      once("preferredBatchSizes");
      int[] sorted = sizes.clone();
      Arrays.sort(sorted);
      for (int s : sorted) {
        if (s < 1) {
          throw new IllegalArgumentException(
              "preferredBatchSizes must be >= 1: " + Arrays.toString(sizes));
        }
      }
      this.preferredBatchSizes = sorted;
      return this;
    }

    /** Requests that may wait, at least 1. */
    public Builder maxQueueSize(int requests) {
      once("maxQueueSize");
      if (requests < 1) {
        throw new IllegalArgumentException("maxQueueSize must be >= 1 but was " + requests);
      }
      this.maxQueueSize = requests;
      return this;
    }

    /** Batches that may run at the same time, at least 1. */
    public Builder workers(int workers) {
      once("workers");
      if (workers < 1) {
        throw new IllegalArgumentException("workers must be >= 1 but was " + workers);
      }
      this.workers = workers;
      return this;
    }

    /** Deadline of requests made without one. */
    public Builder defaultTimeout(Duration timeout) {
      once("defaultTimeout");
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("defaultTimeout must be positive: " + timeout);
      }
      this.defaultTimeout = timeout;
      return this;
    }

    /**
     * Makes the worker threads (default: daemon threads named after the predictor's target). Called
     * {@code workers} times when the predictor is built; a factory that returns null fails the
     * build. Pass {@code Thread.ofVirtual().factory()} on JDK 21+ for virtual workers.
     */
    public Builder threadFactory(ThreadFactory factory) {
      once("threadFactory");
      this.threadFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalStateException if a preferred size exceeds maxBatchSize
     */
    public BatchingOptions build() {
      for (int s : preferredBatchSizes) {
        if (s > maxBatchSize) {
          throw new IllegalStateException(
              "preferred batch size " + s + " exceeds maxBatchSize " + maxBatchSize);
        }
      }
      return new BatchingOptions(this);
    }
  }
}
