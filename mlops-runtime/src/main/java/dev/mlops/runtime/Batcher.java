package dev.mlops.runtime;

import dev.mlops.api.ClosedException;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.OverloadedException;
import dev.mlops.api.Prediction;
import dev.mlops.api.PredictionException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.Outcome;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic batching of one predictor's calls: a bounded queue and worker threads that merge queued
 * requests along the first dimension into one engine run and hand each caller its own rows.
 *
 * <p>Every step of a request (encode, validate, engine run, observers, decode, telemetry) is the
 * predictor's {@link CallPipeline}; the version comes from its {@link Binding}. A request may be
 * pinned to a lease its caller took ({@code predictAll}: every input on one version), else it runs
 * on the version serving when its batch starts. The workers are threads of their own, made by
 * {@link BatchingOptions#threadFactory()} (daemon threads named after the predictor by default), so
 * they never hold a thread of the runtime's executor; they block while the queue is empty and end
 * when the batcher closes and the queue has drained.
 */
final class Batcher<I, O> {

  private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);

  private final CallPipeline<I, O> pipeline;
  private final Binding binding;
  private final BatchingOptions options;
  private final String target;
  private final Queue<I, O> queue;

  /** Requests submitted and not yet completed, plus calls running on their caller's thread. */
  private final AtomicInteger pending = new AtomicInteger();

  private volatile boolean closed;

  /** Held by the one worker gathering the next batch. */
  private final ReentrantLock gathering = new ReentrantLock();

  /**
   * A request taken from the queue that did not fit the last batch; guarded by {@link #gathering}.
   */
  private Request<I, O> carry;

  private final List<Thread> workers;

  /** One caller's request. */
  static final class Request<I, O> {
    final I input;
    final long enqueuedAt;
    final long deadline;
    final String key;

    /** The lease the request must run on, or null for the version serving when its batch runs. */
    final SessionHandle pinned;

    /** Shown the request's inputs and outputs when it succeeds (a rollout's shadow), or null. */
    final CallPipeline.Tap tap;

    final CompletableFuture<Prediction<O>> result = new CompletableFuture<>();

    /** Set by whoever reports the outcome and completes the future, so that each is done once. */
    private final AtomicBoolean claimed = new AtomicBoolean();

    ModelSignature encodedFor;
    Map<String, Tensor> inputs;
    int rows;

    Request(
        I input,
        long enqueuedAt,
        long deadline,
        String key,
        SessionHandle pinned,
        CallPipeline.Tap tap) {
      this.input = input;
      this.enqueuedAt = enqueuedAt;
      this.deadline = deadline;
      this.key = key;
      this.pinned = pinned;
      this.tap = tap;
    }

    boolean claim() {
      return !claimed.get() && claimed.compareAndSet(false, true);
    }
  }

  /**
   * A bounded FIFO whose waiting reader wakes on an offer or on close: no poll interval, and no
   * thread left behind once the batcher closes.
   */
  private static final class Queue<I, O> {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final ArrayDeque<Request<I, O>> items = new ArrayDeque<>();
    private final int capacity;
    private boolean closed;

    Queue(int capacity) {
      this.capacity = capacity;
    }

    /** Queues a request; false if the queue is full or closed. */
    boolean offer(Request<I, O> r) {
      lock.lock();
      try {
        if (closed || items.size() >= capacity) {
          return false;
        }
        items.addLast(r);
        notEmpty.signal();
        return true;
      } finally {
        lock.unlock();
      }
    }

    Request<I, O> poll() {
      lock.lock();
      try {
        return items.pollFirst();
      } finally {
        lock.unlock();
      }
    }

    /** The next request, waiting for one; null once closed and empty. */
    Request<I, O> take() throws InterruptedException {
      lock.lock();
      try {
        while (items.isEmpty() && !closed) {
          notEmpty.await();
        }
        return items.pollFirst();
      } finally {
        lock.unlock();
      }
    }

    /** The next request, waiting at most {@code nanos}; null if none came. */
    Request<I, O> poll(long nanos) throws InterruptedException {
      lock.lock();
      try {
        while (items.isEmpty() && !closed && nanos > 0) {
          nanos = notEmpty.awaitNanos(nanos);
        }
        return items.pollFirst();
      } finally {
        lock.unlock();
      }
    }

    boolean drained() {
      lock.lock();
      try {
        return closed && items.isEmpty();
      } finally {
        lock.unlock();
      }
    }

    int size() {
      lock.lock();
      try {
        return items.size();
      } finally {
        lock.unlock();
      }
    }

    void close() {
      lock.lock();
      try {
        closed = true;
        notEmpty.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * Starts the workers.
   *
   * @throws IllegalStateException if the signature cannot be batched, or the thread factory made no
   *     thread
   */
  Batcher(
      CallPipeline<I, O> pipeline,
      Binding binding,
      BatchingOptions options,
      ModelSignature signature) {
    this.pipeline = pipeline;
    this.binding = binding;
    this.options = options;
    this.target = binding.target().toString();
    this.queue = new Queue<>(options.maxQueueSize());
    checkBatchable(signature);
    ThreadFactory factory = options.threadFactory().orElseGet(() -> new WorkerThreads(target));
    List<Thread> started = new ArrayList<>(options.workers());
    for (int i = 0; i < options.workers(); i++) {
      Thread t = factory.newThread(this::workLoop);
      if (t == null) {
        close();
        throw new IllegalStateException(
            "the batching thread factory "
                + factory
                + " made no thread for worker "
                + (i + 1)
                + " of "
                + options.workers()
                + " of "
                + target
                + "; give BatchingOptions a factory that makes one per call");
      }
      t.start();
      started.add(t);
    }
    this.workers = List.copyOf(started);
  }

  /** The default worker threads: daemons named after the predictor's target. */
  private static final class WorkerThreads implements ThreadFactory {
    private final String prefix;
    private final AtomicInteger n = new AtomicInteger();

    WorkerThreads(String target) {
      this.prefix = "mlops-batching-" + target + "-";
    }

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }

    @Override
    public String toString() {
      return "daemon threads " + prefix + "N";
    }
  }

  /**
   * Batching merges along the first dimension, so every input and output must have a dynamic one.
   */
  static void checkBatchable(ModelSignature signature) {
    List<TensorSpec> all = new ArrayList<>(signature.inputs());
    all.addAll(signature.outputs());
    for (TensorSpec s : all) {
      if (s.rank() == 0 || s.dim(0) != TensorSpec.DYNAMIC) {
        throw new IllegalStateException(
            "dynamic batching needs a dynamic first dimension on every input and output, but "
                + s
                + " has none");
      }
    }
  }

  /**
   * The deadline of a request made at {@code start} with {@code deadline}: the default timeout if
   * it has none.
   */
  long withDefault(long start, long deadline) {
    return deadline == CallPipeline.NO_DEADLINE && options.defaultTimeout() != null
        ? CallPipeline.deadline(start, options.defaultTimeout())
        : deadline;
  }

  /**
   * Queues a request; the future completes when its batch has run. Never throws: every failure, a
   * codec's included, completes the future.
   *
   * @param pinned a lease the request holds and runs on (released when it completes), or null
   */
  CompletableFuture<Prediction<O>> submit(
      I input, long start, long deadline, String key, SessionHandle pinned) {
    return enqueue(input, start, deadline, key, pinned, null).result;
  }

  /** As {@link #submit(Object, long, long, String, SessionHandle)}, shown to {@code tap}. */
  CompletableFuture<Prediction<O>> submitTapped(
      I input, long start, long deadline, String key, CallPipeline.Tap tap) {
    return enqueue(input, start, deadline, key, null, tap).result;
  }

  private Request<I, O> enqueue(
      I input, long start, long deadline, String key, SessionHandle pinned, CallPipeline.Tap tap) {
    Request<I, O> r = new Request<>(input, start, withDefault(start, deadline), key, pinned, tap);
    pending.incrementAndGet();
    r.result.whenComplete(
        (p, e) -> {
          pending.decrementAndGet();
          if (pinned != null) {
            pinned.releaseAfterCall();
          }
        });
    try {
      admit(r);
    } catch (RuntimeException | Error e) {
      fail(r, CallPipeline.typed(e, "queueing a request for " + target), versionOf(r), 0, 0);
    }
    return r;
  }

  private void admit(Request<I, O> r) {
    if (closed) {
      failClosed(r);
      return;
    }
    // Encode on the caller's thread: a bad input fails there, without queueing.
    ModelVersion version = r.pinned != null ? r.pinned.version : binding.servingOrLast();
    try {
      encode(r, version);
    } catch (MlopsException e) {
      fail(r, e, version.version(), 0, 0);
      return;
    }
    if (!queue.offer(r)) {
      if (closed) {
        failClosed(r); // closed meanwhile: the workers may have drained the queue already
        return;
      }
      fail(
          r,
          new OverloadedException(
              "the batching queue of "
                  + target
                  + " is full ("
                  + options.maxQueueSize()
                  + " requests waiting); retry later, add workers or raise maxQueueSize"),
          version.version(),
          0,
          0);
    }
  }

  /**
   * Runs every input on one version and waits for the results: each input is queued as a request
   * pinned to one lease taken now, so a swap meanwhile cannot split them across versions.
   *
   * @throws MlopsException the first failure in input order, as {@link #join} rethrows it
   */
  List<Prediction<O>> callAll(List<? extends I> inputs, String key) {
    long start = pipeline.now();
    SessionHandle h;
    try {
      h = binding.lease(start, CallPipeline.NO_DEADLINE);
    } catch (ClosedException e) {
      throw e;
    } catch (MlopsException e) {
      pipeline.record(0, pipeline.now() - start, 0, 1, CallPipeline.outcome(e), key);
      throw e;
    }
    List<CompletableFuture<Prediction<O>>> futures = new ArrayList<>(inputs.size());
    try {
      for (I input : inputs) {
        // Each request holds a reference of its own until it completes; the caller's holds it
        // meanwhile.
        h.tryAcquire();
        futures.add(submit(input, pipeline.now(), CallPipeline.NO_DEADLINE, key, h));
      }
    } finally {
      h.releaseAfterCall();
    }
    List<Prediction<O>> out = new ArrayList<>(inputs.size());
    for (CompletableFuture<Prediction<O>> f : futures) {
      out.add(join(f));
    }
    return out;
  }

  /**
   * Runs a request and waits for its result, at most until its deadline. When nothing else is in
   * flight there is nobody to batch with, so the call runs on the caller's thread and skips the
   * hand-off to a worker (two context switches, which cost more than a small model's run).
   */
  Prediction<O> call(I input, long start, long deadline, String key) {
    return call(input, start, deadline, key, null);
  }

  /** As {@link #call(Object, long, long, String)}; a success is shown to {@code tap}. */
  Prediction<O> call(I input, long start, long deadline, String key, CallPipeline.Tap tap) {
    long due = withDefault(start, deadline);
    if (pending.compareAndSet(0, 1)) {
      try {
        return pipeline.direct(binding, input, start, due, key, tap);
      } finally {
        pending.decrementAndGet();
      }
    }
    Request<I, O> r = enqueue(input, start, due, key, null, tap);
    CompletableFuture<Prediction<O>> f = r.result;
    try {
      if (due == CallPipeline.NO_DEADLINE) {
        f.get();
      } else {
        // Bounded in real time by what the ticker says is left.
        f.get(Math.max(0, due - pipeline.now()), TimeUnit.NANOSECONDS);
      }
    } catch (TimeoutException e) {
      // Unless a worker completed it meanwhile.
      fail(
          r,
          new PredictionTimeoutException(
              "no result for " + target + " within " + Duration.ofNanos(due - start)),
          versionOf(r),
          pipeline.now() - start,
          0);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      // Nobody waits for it any more: a worker that reaches it skips it.
      fail(
          r,
          new PredictionException(
              "interrupted while waiting for a batched prediction of " + target, e),
          versionOf(r),
          pipeline.now() - start,
          0);
    } catch (ExecutionException e) {
      // rethrown typed below
    }
    return join(f);
  }

  /** The future's value, or its failure rethrown as the typed exception the caller expects. */
  static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof MlopsException m) {
        throw m;
      }
      throw new PredictionException("prediction failed: " + e.getCause(), e.getCause());
    } catch (java.util.concurrent.CancellationException e) {
      throw new PredictionException("the batched prediction was cancelled", e);
    }
  }

  private void encode(Request<I, O> r, ModelVersion version) {
    Map<String, Tensor> inputs = pipeline.encode(version, r.input);
    int rows = -1;
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      int n = (int) e.getValue().dim(0);
      if (rows >= 0 && n != rows) {
        throw new InvalidInputException(
            e.getKey(), rows + " rows like the other inputs", n + " rows");
      }
      rows = n;
    }
    if (rows > options.maxBatchSize()) {
      throw new InvalidInputException(
          inputs.keySet().iterator().next(),
          "at most maxBatchSize=" + options.maxBatchSize() + " rows per request",
          rows + " rows");
    }
    r.inputs = inputs;
    r.rows = rows;
    r.encodedFor = version.signature();
  }

  /**
   * Takes batches from the queue and runs them. Only one worker gathers at a time: two gathering at
   * once would split the waiting requests into two smaller batches, each then waiting out the queue
   * delay for company the other holds. The others run their batches meanwhile.
   */
  private void workLoop() {
    for (; ; ) {
      List<Request<I, O>> batch;
      try {
        gathering.lockInterruptibly();
        try {
          if (carry == null && queue.drained()) {
            return;
          }
          batch = gather();
        } finally {
          gathering.unlock();
        }
      } catch (InterruptedException e) {
        if (closed) {
          failLeftovers();
          return;
        }
        continue;
      }
      if (batch == null) {
        continue;
      }
      try {
        runBatch(batch);
      } catch (RuntimeException | Error e) {
        LOG.error("batching worker of {} failed; continuing", target, e);
        for (Request<I, O> r : batch) {
          fail(r, CallPipeline.typed(e, "batched prediction on " + target), versionOf(r), 0, 0);
        }
      }
    }
  }

  /**
   * Fails what a worker interrupted after close leaves: the carried request and the queue's rest.
   */
  private void failLeftovers() {
    gathering.lock();
    try {
      if (carry != null) {
        failClosed(carry);
        carry = null;
      }
      for (Request<I, O> r = queue.poll(); r != null; r = queue.poll()) {
        failClosed(r);
      }
    } finally {
      gathering.unlock();
    }
  }

  /**
   * The next batch: the first request waiting (or the one left over from the last batch), then more
   * until the batch is full, the queue runs dry at a preferred size, or the first request has
   * waited the queue delay. Null once the queue is closed and empty. Caller holds {@link
   * #gathering}.
   */
  private List<Request<I, O>> gather() throws InterruptedException {
    Request<I, O> first = carry != null ? carry : queue.take();
    carry = null;
    if (first == null) {
      return null;
    }
    List<Request<I, O>> batch = new ArrayList<>();
    batch.add(first);
    int rows = first.rows;
    long sendBy = CallPipeline.deadline(first.enqueuedAt, options.maxQueueDelay());
    while (rows < options.maxBatchSize()) {
      Request<I, O> next = queue.poll();
      if (next == null) {
        if (options.isPreferred(rows)) {
          break;
        }
        long wait = sendBy - pipeline.now();
        if (wait <= 0) {
          break;
        }
        try {
          next = queue.poll(wait);
        } catch (InterruptedException e) {
          // Send what was gathered rather than lose it; the loop sees the interrupt next.
          Thread.currentThread().interrupt();
          break;
        }
        if (next == null) {
          break;
        }
      }
      if (rows + next.rows > options.maxBatchSize()) {
        carry = next;
        break;
      }
      batch.add(next);
      rows += next.rows;
    }
    return batch;
  }

  private void runBatch(List<Request<I, O>> batch) {
    long start = pipeline.now();
    List<Request<I, O>> live = new ArrayList<>(batch.size());
    boolean anyPinned = false;
    for (Request<I, O> r : batch) {
      if (r.result.isDone()) {
        continue; // the caller gave up
      }
      if (start > r.deadline) {
        fail(
            r,
            new PredictionTimeoutException(
                "request to "
                    + target
                    + " reached its deadline after "
                    + Duration.ofNanos(start - r.enqueuedAt)
                    + " in the batching queue"),
            versionOf(r),
            start - r.enqueuedAt,
            0);
        continue;
      }
      anyPinned |= r.pinned != null;
      live.add(r);
    }
    if (live.isEmpty()) {
      return;
    }
    if (!anyPinned) {
      runOnServing(live, start);
      return;
    }
    // Pinned requests run on their own lease, merged with others on the same one; the rest on the
    // serving version.
    List<Request<I, O>> unpinned = new ArrayList<>();
    Map<SessionHandle, List<Request<I, O>>> byLease = new LinkedHashMap<>();
    for (Request<I, O> r : live) {
      if (r.pinned == null) {
        unpinned.add(r);
      } else {
        byLease.computeIfAbsent(r.pinned, k -> new ArrayList<>()).add(r);
      }
    }
    for (Map.Entry<SessionHandle, List<Request<I, O>>> e : byLease.entrySet()) {
      SessionHandle h = e.getKey();
      // A pinned request holds its lease until it completes, so this fails only if all completed.
      if (!h.tryAcquire()) {
        continue;
      }
      try {
        runOn(h, e.getValue(), start);
      } finally {
        h.releaseAfterCall();
      }
    }
    if (!unpinned.isEmpty()) {
      runOnServing(unpinned, start);
    }
  }

  /** Runs requests on a lease of the version serving now. */
  private void runOnServing(List<Request<I, O>> requests, long start) {
    SessionHandle h;
    try {
      h = binding.lease(start, CallPipeline.NO_DEADLINE);
    } catch (MlopsException e) {
      for (Request<I, O> r : requests) {
        fail(r, e, 0, start - r.enqueuedAt, 0);
      }
      return;
    }
    try {
      runOn(h, requests, start);
    } finally {
      h.releaseAfterCall();
    }
  }

  private void runOn(SessionHandle h, List<Request<I, O>> requests, long start) {
    ModelSignature signature = h.version.signature();
    // Requests encoded for another version's signature (a swap happened) are encoded again.
    List<Request<I, O>> ready = new ArrayList<>(requests.size());
    for (Request<I, O> r : requests) {
      if (r.encodedFor != signature) {
        try {
          encode(r, h.version);
        } catch (MlopsException e) {
          fail(r, e, h.version.version(), start - r.enqueuedAt, 0);
          continue;
        }
      }
      ready.add(r);
    }
    // Merge requests whose non-batch dimensions agree; run the rest in groups of their own.
    while (!ready.isEmpty()) {
      List<Request<I, O>> group = new ArrayList<>();
      List<Request<I, O>> rest = new ArrayList<>();
      Request<I, O> head = ready.get(0);
      for (Request<I, O> r : ready) {
        (compatible(head, r) ? group : rest).add(r);
      }
      runGroup(h, signature, group, start);
      ready = rest;
    }
  }

  private static <I, O> boolean compatible(Request<I, O> a, Request<I, O> b) {
    for (Map.Entry<String, Tensor> e : a.inputs.entrySet()) {
      Tensor other = b.inputs.get(e.getKey());
      if (other == null || !e.getValue().sameRowShape(other)) {
        return false;
      }
    }
    return true;
  }

  private void runGroup(
      SessionHandle h, ModelSignature signature, List<Request<I, O>> group, long start) {
    int rows = 0;
    for (Request<I, O> r : group) {
      rows += r.rows;
    }
    long version = h.version.version();
    Map<String, Tensor> out;
    try {
      List<Map<String, Tensor>> parts = new ArrayList<>(group.size());
      for (Request<I, O> r : group) {
        parts.add(r.inputs);
      }
      out = pipeline.runBatch(h, signature, parts, "batched prediction");
      for (Map.Entry<String, Tensor> e : out.entrySet()) {
        if (e.getValue().dim(0) != rows) {
          throw new PredictionException(
              "output '"
                  + e.getKey()
                  + "' has "
                  + e.getValue().dim(0)
                  + " rows for a batch of "
                  + rows
                  + "; this model cannot be batched");
        }
      }
    } catch (RuntimeException e) {
      MlopsException failure = CallPipeline.typed(e, "batched prediction on " + h.version.ref());
      for (Request<I, O> r : group) {
        fail(r, failure, version, start - r.enqueuedAt, rows);
      }
      return;
    }
    int at = 0;
    for (Request<I, O> r : group) {
      Map<String, Tensor> mine = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : out.entrySet()) {
        mine.put(e.getKey(), Tensors.rows(e.getValue(), at, at + r.rows));
      }
      at += r.rows;
      O value;
      try {
        value = pipeline.decode(h.version, mine);
      } catch (MlopsException e) {
        fail(r, e, version, start - r.enqueuedAt, rows);
        continue;
      }
      if (r.claim()) {
        long latency = pipeline.now() - r.enqueuedAt;
        pipeline.record(version, latency, start - r.enqueuedAt, rows, Outcome.SUCCESS, r.key);
        if (r.tap != null) {
          r.tap.answered(h.version, r.inputs, mine);
        }
        r.result.complete(new Prediction<>(value, h.version.name(), version, latency));
      }
    }
  }

  /** The version a request failing before it ran is reported against. */
  private long versionOf(Request<I, O> r) {
    return r.pinned != null ? r.pinned.version.version() : binding.servingNumber();
  }

  /**
   * Reports and fails a request, unless someone completed it first; a closed predictor is not
   * reported.
   */
  private void fail(
      Request<I, O> r, MlopsException e, long version, long queueNanos, int batchRows) {
    if (!r.claim()) {
      return;
    }
    if (!(e instanceof ClosedException)) {
      pipeline.record(
          version,
          pipeline.now() - r.enqueuedAt,
          queueNanos,
          batchRows,
          CallPipeline.outcome(e),
          r.key);
    }
    r.result.completeExceptionally(e);
  }

  private void failClosed(Request<I, O> r) {
    fail(r, binding.closedException(), 0, 0, 0);
  }

  /** Requests waiting in the queue now. */
  int queued() {
    return queue.size();
  }

  /** The worker threads, for tests. */
  List<Thread> workers() {
    return workers;
  }

  /** Stops taking requests; queued ones still run, then the workers end. Idempotent. */
  void close() {
    closed = true;
    queue.close();
  }
}
