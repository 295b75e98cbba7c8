package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codec;
import dev.mlops.api.Codecs;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.OverloadedException;
import dev.mlops.api.Prediction;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.runtime.onnx.SlowModels;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic batching keeps order, honours deadlines and rejects when full; limits and run deadlines.
 */
class BatchingTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "test");

  @TempDir Path tmp;
  private Mlops mlops;
  private final List<PredictionEvent> events = new CopyOnWriteArrayList<>();
  private final TestTicker ticker = new TestTicker();

  @BeforeEach
  void setUp() {
    mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .ticker(ticker)
            .metricSink(
                new MetricSink() {
                  @Override
                  public void onPrediction(PredictionEvent event) {
                    events.add(event);
                  }
                })
            .build();
    mlops
        .registry()
        .register(
            Registration.builder(
                    "cancer",
                    ArtifactSource.file(
                        TestModels.copy(TestModels.BREAST_CANCER_V2, tmp.resolve("m"))))
                .build(),
            OPS);
  }

  @AfterEach
  void tearDown() {
    mlops.close();
  }

  private Predictor<float[], float[]> batched(BatchingOptions options) {
    return mlops
        .newPredictor(ModelRef.parse("models:/cancer/1"), Codecs.floatRow("probabilities"))
        .batching(options)
        .build();
  }

  @Test
  void concurrentCallersEachGetTheirOwnRowsBackFromMergedRuns() throws Exception {
    TestSet test = TestModels.breastCancerTestSet();
    float[][] expected = new float[test.size()][];
    try (Predictor<float[], float[]> plain =
        mlops.predictor("models:/cancer/1", Codecs.floatRow("probabilities"))) {
      for (int i = 0; i < test.size(); i++) {
        expected[i] = plain.predict(test.features()[i]).value();
      }
    }
    events.clear();
    try (Predictor<float[], float[]> p =
        batched(
            BatchingOptions.builder()
                .maxBatchSize(16)
                .maxQueueDelay(Duration.ofMillis(20))
                .workers(1)
                .build())) {
      List<CompletableFuture<Prediction<float[]>>> futures = new ArrayList<>();
      for (int i = 0; i < test.size(); i++) {
        futures.add(p.predictAsync(test.features()[i]));
      }
      for (int i = 0; i < test.size(); i++) {
        assertThat(futures.get(i).get(30, TimeUnit.SECONDS).value()).containsExactly(expected[i]);
      }
      // The same through predictAll, which keeps input order.
      List<float[]> rows = List.of(test.features());
      List<Prediction<float[]>> all = p.predictAll(rows);
      for (int i = 0; i < test.size(); i++) {
        assertThat(all.get(i).value()).containsExactly(expected[i]);
      }
    }
    assertThat(events).hasSize(2 * test.size()).allMatch(e -> e.outcome() == Outcome.SUCCESS);
    assertThat(events.stream().mapToInt(PredictionEvent::batchSize).max().orElse(0))
        .isGreaterThan(1)
        .isLessThanOrEqualTo(16);
  }

  @Test
  void workersDoNotSplitTheWaitingRequestsBetweenThem() throws Exception {
    // Eight requests fill one batch of eight. Were both workers gathering at once, each would hold
    // part of them and wait out the 30 s queue delay for the rest.
    try (Predictor<float[], float[]> p =
        batched(
            BatchingOptions.builder()
                .maxBatchSize(8)
                .maxQueueDelay(Duration.ofSeconds(30))
                .workers(2)
                .build())) {
      List<CompletableFuture<Prediction<float[]>>> futures = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        futures.add(p.predictAsync(new float[30]));
      }
      for (CompletableFuture<Prediction<float[]>> f : futures) {
        assertThat(f.get(10, TimeUnit.SECONDS).value()).hasSize(2);
      }
    }
    assertThat(events)
        .hasSize(8)
        .allMatch(e -> e.batchSize() == 8 && e.outcome() == Outcome.SUCCESS);
  }

  @Test
  void singleCallerIsServedAfterAtMostTheQueueDelay() {
    try (Predictor<float[], float[]> p =
        batched(BatchingOptions.builder().maxQueueDelay(Duration.ofMillis(2)).build())) {
      for (int i = 0; i < 20; i++) {
        assertThat(p.predict(new float[30]).value()).hasSize(2);
      }
    }
    // Nobody to batch with: each call ran on the caller's thread, never queued.
    assertThat(events)
        .hasSize(20)
        .allMatch(e -> e.batchSize() == 1 && e.outcome() == Outcome.SUCCESS && e.queueNanos() == 0);
  }

  /** Blocks every decode until released, so the one worker stays busy and requests queue up. */
  private static final class BlockingCodec implements Codec<float[], float[]> {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public Map<String, Tensor> encode(float[] input, ModelSignature signature) {
      return Codecs.floatRow().encode(input, signature);
    }

    @Override
    public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      entered.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return outputs.get("probabilities").floats();
    }

    @Override
    public Set<String> outputs(ModelSignature signature) {
      return Set.of("probabilities");
    }
  }

  @Test
  void fullQueueRejectsAtOnceWithOverloadedException() throws Exception {
    BlockingCodec codec = new BlockingCodec();
    try (Predictor<float[], float[]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/cancer/1"), codec)
            .batching(BatchingOptions.builder().workers(1).maxBatchSize(1).maxQueueSize(3).build())
            .build()) {
      CompletableFuture<Prediction<float[]>> running = p.predictAsync(new float[30]);
      assertThat(codec.entered.await(10, TimeUnit.SECONDS)).isTrue();
      List<CompletableFuture<Prediction<float[]>>> queued = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        queued.add(p.predictAsync(new float[30]));
      }
      assertThatThrownBy(() -> p.predict(new float[30]))
          .isInstanceOf(OverloadedException.class)
          .hasMessageContaining("queue")
          .hasMessageContaining("3 requests waiting");
      codec.release.countDown();
      assertThat(running.get(10, TimeUnit.SECONDS).value()).hasSize(2);
      for (CompletableFuture<Prediction<float[]>> f : queued) {
        assertThat(f.get(10, TimeUnit.SECONDS).value()).hasSize(2);
      }
    }
    assertThat(events).filteredOn(e -> e.outcome() == Outcome.OVERLOADED).hasSize(1);
    assertThat(events).filteredOn(e -> e.outcome() == Outcome.SUCCESS).hasSize(4);
  }

  @Test
  void requestsStillQueuedAtTheirDeadlineFailWithoutRunning() throws Exception {
    BlockingCodec codec = new BlockingCodec();
    try (Predictor<float[], float[]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/cancer/1"), codec)
            .batching(BatchingOptions.builder().workers(1).maxBatchSize(1).build())
            .build()) {
      CompletableFuture<Prediction<float[]>> running = p.predictAsync(new float[30]);
      assertThat(codec.entered.await(10, TimeUnit.SECONDS)).isTrue();
      // A blocked caller gives up at its deadline.
      assertThatThrownBy(() -> p.predict(new float[30], Duration.ofMillis(50)))
          .isInstanceOf(PredictionTimeoutException.class)
          .hasMessage("no result for models:/cancer/1 within PT0.05S");
      // A queued request whose deadline the ticker passes is dropped when the worker reaches it.
      CompletableFuture<Prediction<float[]>> late =
          p.predictAsync(
              new float[30], dev.mlops.api.CallOptions.NONE.deadline(Duration.ofSeconds(5)));
      ticker.advance(Duration.ofSeconds(10));
      codec.release.countDown();
      assertThat(running.get(10, TimeUnit.SECONDS).value()).hasSize(2);
      assertThat(late)
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .havingCause()
          .isInstanceOf(PredictionTimeoutException.class)
          .withMessageStartingWith("request to models:/cancer/1 reached its deadline after PT10")
          .withMessageEndingWith("S in the batching queue");
      // Once the worker is free, a call with a deadline succeeds.
      assertThat(p.predict(new float[30], Duration.ofSeconds(10)).value()).hasSize(2);
    }
    // The expired requests never reached the engine: exactly two successes were decoded.
    assertThat(events)
        .extracting(PredictionEvent::outcome)
        .containsExactlyInAnyOrder(
            Outcome.SUCCESS, Outcome.TIMEOUT, Outcome.TIMEOUT, Outcome.SUCCESS);
  }

  /**
   * {@link Codecs#floatRow(String)} whose {@code encode} throws a plain runtime exception (a bug in
   * the codec, not an invalid input) on rows that start with NaN, and that records the threads
   * {@code decode} ran on.
   */
  private static final class BuggyCodec implements Codec<float[], float[]> {
    private final Codec<float[], float[]> row = Codecs.floatRow("probabilities");
    final List<Thread> decodedOn = new CopyOnWriteArrayList<>();

    @Override
    public Map<String, Tensor> encode(float[] input, ModelSignature signature) {
      if (Float.isNaN(input[0])) {
        throw new IllegalStateException("codec bug");
      }
      return row.encode(input, signature);
    }

    @Override
    public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      decodedOn.add(Thread.currentThread());
      return row.decode(outputs, signature);
    }

    @Override
    public Set<String> outputs(ModelSignature signature) {
      return row.outputs(signature);
    }
  }

  private static float[] buggyRow() {
    float[] row = new float[30];
    row[0] = Float.NaN;
    return row;
  }

  @Test
  void aCodecThatThrowsOnTheBatchedPathFailsTheFutureInsteadOfThrowing() {
    BuggyCodec codec = new BuggyCodec();
    try (Predictor<float[], float[]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/cancer/1"), codec)
            .batching(BatchingOptions.builder().workers(1).build())
            .build()) {
      CompletableFuture<Prediction<float[]>> f = p.predictAsync(buggyRow());
      assertThat(f)
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .withCauseInstanceOf(dev.mlops.api.PredictionException.class)
          .withMessageContaining(
              "encoding an input for models:/cancer/1 failed: java.lang.IllegalStateException: codec bug");
    }
    assertThat(events)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.outcome()).isEqualTo(Outcome.ERROR);
              assertThat(e.version()).isEqualTo(1);
            });
  }

  @Test
  void aCodecThatThrowsOnTheBatchedPathLeavesLoneCallsOnTheCallersThread() {
    BuggyCodec codec = new BuggyCodec();
    try (Predictor<float[], float[]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/cancer/1"), codec)
            .batching(BatchingOptions.builder().workers(1).build())
            .build()) {
      // However the failure is reported, it must not count as a request still in flight.
      org.assertj.core.api.Assertions.catchThrowable(() -> p.predictAsync(buggyRow()).join());
      org.assertj.core.api.Assertions.catchThrowable(() -> p.predictAll(List.of(buggyRow())));
      for (int i = 0; i < 5; i++) {
        assertThat(p.predict(new float[30]).value()).hasSize(2);
      }
    }
    assertThat(codec.decodedOn)
        .as("threads the lone calls were decoded on")
        .hasSize(5)
        .containsOnly(Thread.currentThread());
  }

  /** floatRow whose first decode blocks until released; the call holds its lease meanwhile. */
  private static final class FirstDecodeBlocks implements Codec<float[], float[]> {
    private final Codec<float[], float[]> row = Codecs.floatRow("probabilities");
    private final java.util.concurrent.atomic.AtomicInteger decodes =
        new java.util.concurrent.atomic.AtomicInteger();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public Map<String, Tensor> encode(float[] input, ModelSignature signature) {
      return row.encode(input, signature);
    }

    @Override
    public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      if (decodes.getAndIncrement() == 0) {
        entered.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return row.decode(outputs, signature);
    }

    @Override
    public Set<String> outputs(ModelSignature signature) {
      return row.outputs(signature);
    }
  }

  @Test
  void batchedPredictAllServesEveryInputFromOneVersionWhenTheAliasMovesMidway() throws Exception {
    for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "flip",
                      ArtifactSource.file(TestModels.copy(file, tmp.resolve("flip-" + file))))
                  .build(),
              OPS);
    }
    mlops.registry().setAlias("flip", "production", 1, OPS);
    CompletableFuture<Void> swapped = new CompletableFuture<>();
    mlops.addListener(
        e -> {
          if (e instanceof dev.mlops.api.event.LifecycleEvent.VersionSwapped s
              && s.toVersion() == 2) {
            swapped.complete(null);
          }
        });
    FirstDecodeBlocks codec = new FirstDecodeBlocks();
    // One row per run: each input is a batch of its own, run one after the other.
    try (Predictor<float[], float[]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/flip@production"), codec)
            .batching(BatchingOptions.builder().workers(1).maxBatchSize(1).build())
            .build()) {
      List<float[]> rows = List.of(TestModels.breastCancerTestSet().features()).subList(0, 4);
      CompletableFuture<List<Prediction<float[]>>> all =
          CompletableFuture.supplyAsync(() -> p.predictAll(rows));
      assertThat(codec.entered.await(10, TimeUnit.SECONDS))
          .as("the first input is running")
          .isTrue();
      mlops.registry().setAlias("flip", "production", 2, OPS);
      swapped.get(10, TimeUnit.SECONDS);
      assertThat(p.servingVersion()).map(dev.mlops.api.ModelVersion::version).contains(2L);
      codec.release.countDown();
      assertThat(all.get(10, TimeUnit.SECONDS))
          .hasSize(4)
          .extracting(Prediction::version)
          .as("versions of predictAll's results")
          .containsOnly(1L);
      assertThat(p.predict(rows.get(0)).version()).isEqualTo(2);
    }
  }

  @Test
  void invalidInputFailsOnTheCallersThreadWithoutQueueing() {
    try (Predictor<float[], float[]> p = batched(BatchingOptions.builder().build())) {
      assertThatThrownBy(() -> p.predict(new float[7]))
          .isInstanceOf(InvalidInputException.class)
          .hasMessage("input 'features': expected float32[?,30] but found float32[1,7]");
    }
    assertThat(events)
        .singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(Outcome.INVALID_INPUT));
  }

  @Test
  void defaultsAreGreedyLikeTriton() {
    BatchingOptions o = BatchingOptions.builder().build();
    assertThat(o.maxQueueDelay()).isEqualTo(Duration.ZERO);
    assertThat(o.maxBatchSize()).isEqualTo(64);
    assertThat(o.maxQueueSize()).isEqualTo(1024);
    assertThat(o.preferredBatchSizes()).isEmpty();
    assertThatThrownBy(() -> BatchingOptions.builder().workers(1).workers(2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("workers: already set");
  }

  @Test
  void modelWithoutADynamicFirstDimensionCannotBeBatched() {
    assertThatThrownBy(() -> BatchingOptions.builder().maxBatchSize(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> BatchingOptions.builder().maxBatchSize(4).preferredBatchSizes(8).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("preferred batch size 8 exceeds maxBatchSize 4");
    assertThatThrownBy(
            () ->
                Batcher.checkBatchable(
                    new ModelSignature(
                        List.of(
                            dev.mlops.api.TensorSpec.of(
                                "x", dev.mlops.api.ElementType.FLOAT, 1, 4)),
                        List.of())))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("x:float32[1,4] has none");
  }

  @Test
  void inputLimitsRejectOversizedCallsBeforeTheEngine() {
    try (Predictor<float[][], float[][]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/cancer/1"), Codecs.floatBatch())
            .maxBatchRows(4)
            .maxInputElements(90)
            .build()) {
      assertThat(p.predict(new float[3][30]).value()).hasNumberOfRows(3);
      assertThatThrownBy(() -> p.predict(new float[4][30]))
          .isInstanceOf(InvalidInputException.class)
          .hasMessage(
              "input 'features': expected at most 90 input elements per call (maxInputElements) but found 120 elements");
    }
    try (Predictor<float[][], float[][]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/cancer/1"), Codecs.floatBatch())
            .maxBatchRows(4)
            .build()) {
      assertThatThrownBy(() -> p.predict(new float[5][30]))
          .isInstanceOf(InvalidInputException.class)
          .hasMessage(
              "input 'features': expected at most 4 rows per call (maxBatchRows) but found 5 rows");
    }
  }

  @Test
  void deadlineTerminatesTheEngineRunAndTheSessionStaysUsable() {
    Path slow = SlowModels.sinChain(400, 200_000, tmp.resolve("slow.onnx"));
    mlops.registry().register(Registration.builder("slow", ArtifactSource.file(slow)).build(), OPS);
    try (Predictor<float[], float[]> p = mlops.predictor("models:/slow/1", Codecs.floatRow())) {
      float[] x = new float[200_000];
      x[0] = 1f;
      assertThatThrownBy(() -> p.predict(x, Duration.ofMillis(5)))
          .isInstanceOf(PredictionTimeoutException.class)
          .hasMessageContaining("terminated at its deadline");
      float[] y = p.predict(x).value();
      double expected = 1.0;
      for (int i = 0; i < 400; i++) {
        expected = Math.sin(expected);
      }
      assertThat((double) y[0]).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-4));
    }
    assertThat(events).filteredOn(e -> e.outcome() == Outcome.TIMEOUT).hasSize(1);
  }
}
