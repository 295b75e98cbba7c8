package dev.mlops.runtime;

import dev.mlops.api.Codec;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.OverloadedException;
import dev.mlops.api.Prediction;
import dev.mlops.api.PredictionException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic batching of one predictor's calls: a bounded queue and worker loops that merge queued
 * requests along the first dimension into one engine run and hand each caller its own rows.
 */
final class Batcher<I, O> {

  private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);

  private final DefaultPredictor<I, O> predictor;
  private final Codec<I, O> codec;
  private final BatchingOptions options;
  private final ArrayBlockingQueue<Request<I, O>> queue;
  /** Requests submitted and not yet completed, plus calls running on their caller's thread. */
  private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();
  private volatile boolean closed;
  /** Held by the one worker gathering the next batch. */
  private final ReentrantLock gathering = new ReentrantLock();
  /** A request taken from the queue that did not fit the last batch; guarded by {@link #gathering}. */
  private Request<I, O> carry;

  /** One caller's request. */
  static final class Request<I, O> {
    final I input;
    final long enqueuedAt;
    final long deadline; // System.nanoTime() value, Long.MAX_VALUE for none
    final CompletableFuture<Prediction<O>> result = new CompletableFuture<>();
    final AtomicBoolean abandoned = new AtomicBoolean();
    ModelSignature encodedFor;
    Map<String, Tensor> inputs;
    int rows;

    Request(I input, long enqueuedAt, long deadline) {
      this.input = input;
      this.enqueuedAt = enqueuedAt;
      this.deadline = deadline;
    }
  }

  Batcher(DefaultPredictor<I, O> predictor, Codec<I, O> codec, BatchingOptions options, ModelSignature signature) {
    this.predictor = predictor;
    this.codec = codec;
    this.options = options;
    this.queue = new ArrayBlockingQueue<>(options.maxQueueSize());
    checkBatchable(signature);
    for (int i = 0; i < options.workers(); i++) {
      predictor.runtime().executor().execute(this::workLoop);
    }
  }

  /** Batching merges along the first dimension, so every input and output must have a dynamic one. */
  static void checkBatchable(ModelSignature signature) {
    List<TensorSpec> all = new ArrayList<>(signature.inputs());
    all.addAll(signature.outputs());
    for (TensorSpec s : all) {
      if (s.rank() == 0 || s.dim(0) != TensorSpec.DYNAMIC) {
        throw new IllegalStateException("dynamic batching needs a dynamic first dimension on every input and output, but "
            + s + " has none");
      }
    }
  }

  /** Queues a request; the future completes when its batch has run. */
  CompletableFuture<Prediction<O>> submit(I input, Duration timeout) {
    pending.incrementAndGet();
    CompletableFuture<Prediction<O>> f = enqueue(input, timeout);
    f.whenComplete((p, e) -> pending.decrementAndGet());
    return f;
  }

  private CompletableFuture<Prediction<O>> enqueue(I input, Duration timeout) {
    long now = System.nanoTime();
    Duration t = timeout != null ? timeout : options.defaultTimeout();
    Request<I, O> r = new Request<>(input, now, t == null ? Long.MAX_VALUE : now + t.toNanos());
    if (closed) {
      r.result.completeExceptionally(predictor.closedException());
      return r.result;
    }
    // Encode on the caller's thread: a bad input fails there, without queueing.
    ModelSignature signature = predictor.servingSignature();
    try {
      encode(r, signature);
    } catch (InvalidInputException e) {
      predictor.runtime().recordPrediction(predictor.target().name(), predictor.servingNumber(), System.nanoTime() - now,
          0, Outcome.INVALID_INPUT);
      r.result.completeExceptionally(e);
      return r.result;
    }
    if (!queue.offer(r)) {
      predictor.runtime().recordPrediction(predictor.target().name(), predictor.servingNumber(), System.nanoTime() - now,
          0, Outcome.OVERLOADED);
      r.result.completeExceptionally(new OverloadedException("the batching queue of " + predictor.target() + " is full ("
          + options.maxQueueSize() + " requests waiting); retry later, add workers or raise maxQueueSize"));
    }
    return r.result;
  }

  /**
   * Runs a request and waits for its result, at most until its deadline. When nothing else is in
   * flight there is nobody to batch with, so the call runs on the caller's thread and skips the
   * hand-off to a worker (two context switches, which cost more than a small model's run).
   */
  Prediction<O> call(I input, Duration timeout) {
    if (pending.compareAndSet(0, 1)) {
      try {
        return predictor.predictDirect(input, timeout);
      } finally {
        pending.decrementAndGet();
      }
    }
    CompletableFuture<Prediction<O>> f = submit(input, timeout);
    Duration t = timeout != null ? timeout : options.defaultTimeout();
    try {
      return t == null ? f.get() : f.get(t.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.completeExceptionally(new PredictionTimeoutException("no result for " + predictor.target() + " within " + t));
      return join(f);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PredictionException("interrupted while waiting for a batched prediction of " + predictor.target(), e);
    } catch (ExecutionException e) {
      return join(f);
    }
  }

  /** The future's value, or its failure rethrown as the typed exception the caller expects. */
  static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof MlopsException) {
        throw (MlopsException) e.getCause();
      }
      throw new PredictionException("prediction failed: " + e.getCause(), e.getCause());
    }
  }

  private void encode(Request<I, O> r, ModelSignature signature) {
    Map<String, Tensor> inputs = codec.encode(r.input, signature);
    predictor.validate(signature, inputs);
    int rows = -1;
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      int n = (int) e.getValue().dim(0);
      if (rows >= 0 && n != rows) {
        throw new InvalidInputException(e.getKey(), rows + " rows like the other inputs", n + " rows");
      }
      rows = n;
    }
    if (rows > options.maxBatchSize()) {
      throw new InvalidInputException(inputs.keySet().iterator().next(),
          "at most maxBatchSize=" + options.maxBatchSize() + " rows per request", rows + " rows");
    }
    r.inputs = inputs;
    r.rows = rows;
    r.encodedFor = signature;
  }

  /**
   * Takes batches from the queue and runs them. Only one worker gathers at a time: two gathering
   * at once would split the waiting requests into two smaller batches, each then waiting out the
   * queue delay for company the other holds. The others run their batches meanwhile.
   */
  private void workLoop() {
    for (;;) {
      List<Request<I, O>> batch;
      try {
        gathering.lockInterruptibly();
        try {
          if (closed && carry == null && queue.isEmpty()) {
            return;
          }
          batch = gather();
        } finally {
          gathering.unlock();
        }
      } catch (InterruptedException e) {
        if (closed) {
          failCarry();
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
        LOG.error("batching worker of {} failed; continuing", predictor.target(), e);
      }
    }
  }

  /** Fails the request left over from the last batch, when a worker is interrupted after close. */
  private void failCarry() {
    gathering.lock();
    try {
      if (carry != null) {
        carry.result.completeExceptionally(predictor.closedException());
        carry = null;
      }
    } finally {
      gathering.unlock();
    }
  }

  /**
   * The next batch: the first request waiting (or the one left over from the last batch), then
   * more until the batch is full, the queue runs dry at a preferred size, or the first request
   * has waited the queue delay. Null when nothing arrived within 50 ms. Caller holds {@link
   * #gathering}.
   */
  private List<Request<I, O>> gather() throws InterruptedException {
    Request<I, O> first = carry != null ? carry : queue.poll(50, TimeUnit.MILLISECONDS);
    carry = null;
    if (first == null) {
      return null;
    }
    List<Request<I, O>> batch = new ArrayList<>();
    batch.add(first);
    int rows = first.rows;
    long sendBy = first.enqueuedAt + options.maxQueueDelay().toNanos();
    while (rows < options.maxBatchSize()) {
      Request<I, O> next = queue.poll();
      if (next == null) {
        if (options.isPreferred(rows)) {
          break;
        }
        long wait = sendBy - System.nanoTime();
        if (wait <= 0) {
          break;
        }
        next = queue.poll(wait, TimeUnit.NANOSECONDS);
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
    long start = System.nanoTime();
    List<Request<I, O>> live = new ArrayList<>(batch.size());
    for (Request<I, O> r : batch) {
      if (r.result.isDone()) {
        continue; // the caller gave up
      }
      if (start > r.deadline) {
        predictor.runtime().recordPrediction(predictor.target().name(), predictor.servingNumber(), start - r.enqueuedAt,
            0, Outcome.TIMEOUT);
        r.result.completeExceptionally(new PredictionTimeoutException("request to " + predictor.target()
            + " reached its deadline after " + Duration.ofNanos(start - r.enqueuedAt) + " in the batching queue"));
        continue;
      }
      live.add(r);
    }
    if (live.isEmpty()) {
      return;
    }
    SessionHandle h;
    try {
      h = predictor.leaseForBatch(start);
    } catch (MlopsException e) {
      live.forEach(r -> r.result.completeExceptionally(e));
      return;
    }
    try {
      ModelSignature signature = h.version.signature();
      // Requests encoded for another version's signature (a swap happened) are encoded again.
      List<Request<I, O>> ready = new ArrayList<>(live.size());
      for (Request<I, O> r : live) {
        if (r.encodedFor != signature) {
          try {
            encode(r, signature);
          } catch (MlopsException e) {
            record(h, r, start, 0, Outcome.INVALID_INPUT);
            r.result.completeExceptionally(e);
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
    } finally {
      h.release();
    }
  }

  private static <I, O> boolean compatible(Request<I, O> a, Request<I, O> b) {
    for (Map.Entry<String, Tensor> e : a.inputs.entrySet()) {
      Tensor other = b.inputs.get(e.getKey());
      if (other == null || !Tensors.sameRowShape(e.getValue(), other)) {
        return false;
      }
    }
    return true;
  }

  private void runGroup(SessionHandle h, ModelSignature signature, List<Request<I, O>> group, long start) {
    int rows = 0;
    for (Request<I, O> r : group) {
      rows += r.rows;
    }
    try {
      Map<String, Tensor> merged = new LinkedHashMap<>();
      for (String name : group.get(0).inputs.keySet()) {
        List<Tensor> parts = new ArrayList<>(group.size());
        for (Request<I, O> r : group) {
          parts.add(r.inputs.get(name));
        }
        merged.put(name, Tensors.concat(parts));
      }
      Set<String> outputs = predictor.outputsFor(signature);
      Map<String, Tensor> out = h.session.run(merged, outputs, null);
      if (predictor.runtime().hasObservers()) {
        predictor.runtime().observe(h.version, merged, out);
      }
      int at = 0;
      for (Request<I, O> r : group) {
        Map<String, Tensor> mine = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : out.entrySet()) {
          if (e.getValue().dim(0) != rows) {
            throw new PredictionException("output '" + e.getKey() + "' has " + e.getValue().dim(0)
                + " rows for a batch of " + rows + "; this model cannot be batched");
          }
          mine.put(e.getKey(), Tensors.rows(e.getValue(), at, at + r.rows));
        }
        at += r.rows;
        try {
          O value = codec.decode(mine, signature);
          long now = System.nanoTime();
          Prediction<O> p = new Prediction<>(value, predictor.target().name(), h.version.version(), now - r.enqueuedAt);
          record(h, r, start, rows, Outcome.SUCCESS);
          r.result.complete(p);
        } catch (RuntimeException e) {
          record(h, r, start, rows, Outcome.ERROR);
          r.result.completeExceptionally(e instanceof MlopsException ? e
              : new PredictionException("decoding a batched result of " + h.version.ref() + " failed: " + e, e));
        }
      }
    } catch (RuntimeException e) {
      MlopsException failure = e instanceof MlopsException ? (MlopsException) e
          : new PredictionException("batched prediction on " + h.version.ref() + " failed: " + e, e);
      for (Request<I, O> r : group) {
        if (!r.result.isDone()) {
          record(h, r, start, rows, Outcome.ERROR);
          r.result.completeExceptionally(failure);
        }
      }
    }
  }

  private void record(SessionHandle h, Request<I, O> r, long batchStart, int batchRows, Outcome outcome) {
    predictor.runtime().recordBatched(predictor.target().name(), h.version.version(), System.nanoTime() - r.enqueuedAt,
        batchStart - r.enqueuedAt, batchRows, outcome);
  }

  /** Stops taking requests; queued ones still run, then the workers end. */
  void close() {
    closed = true;
  }
}
