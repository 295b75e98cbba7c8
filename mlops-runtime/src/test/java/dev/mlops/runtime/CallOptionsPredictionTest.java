package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.CallOptions;
import dev.mlops.api.Codec;
import dev.mlops.api.Codecs;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.OverloadedException;
import dev.mlops.api.Prediction;
import dev.mlops.api.PredictionException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-call options: the request key reaches the metric event of every call, whatever its outcome
 * and path, and the deadline is read from the runtime's ticker.
 */
class CallOptionsPredictionTest {

  @TempDir Path tmp;
  private final TestTicker ticker = new TestTicker();
  private final List<PredictionEvent> events = new CopyOnWriteArrayList<>();
  private Mlops mlops;

  @BeforeEach
  void open() {
    mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .metricSink(events::add)
            .ticker(ticker)
            .build();
    mlops
        .registry()
        .register(
            Registration.builder("tiny", ArtifactSource.file(TestModels.copy(TestModels.TINY, tmp)))
                .build(),
            AuditInfo.by("ci", "test"));
  }

  @AfterEach
  void close() {
    mlops.close();
  }

  private static final float BUG = Float.NaN;
  private static final float LATE = 99f;

  /**
   * floatRow that fails with a plain exception on rows starting with NaN, moves the ticker a second
   * forward while encoding rows starting with 99, and, while {@link #gate} is closed, blocks every
   * decode on a batching worker.
   */
  private final class TestCodec implements Codec<float[], float[]> {
    private final Codec<float[], float[]> row = Codecs.floatRow();
    final CountDownLatch onWorker = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);

    @Override
    public Map<String, Tensor> encode(float[] input, ModelSignature signature) {
      if (Float.isNaN(input[0])) {
        throw new IllegalStateException("codec bug");
      }
      if (input[0] == LATE) {
        ticker.advance(Duration.ofSeconds(1));
      }
      return row.encode(input, signature);
    }

    @Override
    public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      if (Thread.currentThread().getName().startsWith("mlops-batching-")) {
        onWorker.countDown();
        try {
          gate.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return row.decode(outputs, signature);
    }
  }

  private static float[] row(float first) {
    return new float[] {first, 0, 0, 0};
  }

  private static CallOptions key(String key) {
    return CallOptions.NONE.requestKey(key);
  }

  @Test
  void theRequestKeyReachesTheEventOfEveryOutcomeOnTheDirectPath() throws Exception {
    try (Predictor<float[], float[]> p = mlops.predictor("models:/tiny/1", new TestCodec())) {
      assertThat(p.predict(row(1), key("ok")).value())
          .containsExactly(TestModels.tinyOutput(row(1)));
      assertThatThrownBy(() -> p.predict(new float[3], key("bad-shape")))
          .isInstanceOf(InvalidInputException.class);
      assertThatThrownBy(() -> p.predict(row(BUG), key("bug")))
          .isInstanceOf(PredictionException.class)
          .hasMessage(
              "encoding an input for models:/tiny/1 failed: java.lang.IllegalStateException: codec bug");
      // The codec moves the ticker past the deadline while encoding: the engine never runs.
      assertThatThrownBy(() -> p.predict(row(LATE), key("late").deadline(Duration.ofMillis(10))))
          .isInstanceOf(PredictionTimeoutException.class)
          .hasMessage(
              "the deadline of a call to models:/tiny/1 passed before the engine run started");
      assertThat(p.predictAsync(row(2), key("async")).get(10, TimeUnit.SECONDS).version())
          .isEqualTo(1);
      assertThat(p.predict(row(3), Duration.ofSeconds(10)).version()).isEqualTo(1);
      p.predict(row(4));
    }
    assertThat(events)
        .extracting(PredictionEvent::outcome, PredictionEvent::requestKey)
        .containsExactly(
            tuple(Outcome.SUCCESS, "ok"),
            tuple(Outcome.INVALID_INPUT, "bad-shape"),
            tuple(Outcome.ERROR, "bug"),
            tuple(Outcome.TIMEOUT, "late"),
            tuple(Outcome.SUCCESS, "async"),
            tuple(Outcome.SUCCESS, ""),
            tuple(Outcome.SUCCESS, ""));
  }

  @Test
  void theRequestKeyReachesTheEventOfEveryOutcomeOnTheBatchedPath() throws Exception {
    TestCodec codec = new TestCodec();
    try (Predictor<float[], float[]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/tiny/1"), codec)
            .batching(BatchingOptions.builder().workers(1).maxBatchSize(1).maxQueueSize(1).build())
            .build()) {
      // Alone, the call runs on the caller's thread.
      assertThat(p.predict(row(1), key("alone")).version()).isEqualTo(1);

      CompletableFuture<Prediction<float[]>> holder = p.predictAsync(row(2), key("holder"));
      assertThat(codec.onWorker.await(10, TimeUnit.SECONDS))
          .as("the worker runs the holder")
          .isTrue();
      CompletableFuture<Prediction<float[]>> expires =
          p.predictAsync(row(3), key("expires").deadline(Duration.ofMillis(50)));
      CompletableFuture<Prediction<float[]>> overflow = p.predictAsync(row(4), key("overflow"));
      assertThat(overflow).isCompletedExceptionally();
      assertThatThrownBy(() -> p.predict(new float[3], key("invalid")))
          .isInstanceOf(InvalidInputException.class);
      assertThat(p.predictAsync(row(BUG), key("bug"))).isCompletedExceptionally();

      ticker.advance(Duration.ofSeconds(1));
      codec.gate.countDown();
      assertThat(holder.get(10, TimeUnit.SECONDS).version()).isEqualTo(1);
      assertThat(expires)
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableOfType(ExecutionException.class)
          .havingCause()
          .isInstanceOf(PredictionTimeoutException.class)
          .withMessageStartingWith("request to models:/tiny/1 reached its deadline after PT1")
          .withMessageEndingWith("S in the batching queue");
      assertThat(overflow)
          .failsWithin(Duration.ZERO)
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(OverloadedException.class);
    }
    assertThat(events)
        .extracting(PredictionEvent::outcome, PredictionEvent::requestKey)
        .containsExactlyInAnyOrder(
            tuple(Outcome.SUCCESS, "alone"),
            tuple(Outcome.OVERLOADED, "overflow"),
            tuple(Outcome.INVALID_INPUT, "invalid"),
            tuple(Outcome.ERROR, "bug"),
            tuple(Outcome.SUCCESS, "holder"),
            tuple(Outcome.TIMEOUT, "expires"));
    assertThat(events)
        .filteredOn(e -> e.requestKey().equals("alone"))
        .singleElement()
        .satisfies(e -> assertThat(e.queueNanos()).isZero());
    assertThat(events)
        .filteredOn(e -> e.requestKey().equals("expires"))
        .singleElement()
        .satisfies(
            e -> assertThat(e.queueNanos()).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1)));
  }

  @Test
  void aNullOptionsArgumentIsRefusedAndPredictWithADurationStillMeansADeadlineOnly() {
    try (Predictor<float[], float[]> p = mlops.predictor("models:/tiny/1", new TestCodec())) {
      assertThatThrownBy(() -> p.predict(row(1), (CallOptions) null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("options must not be null; pass CallOptions.NONE for none");
      assertThatThrownBy(() -> p.predictAsync(row(1), (CallOptions) null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("options must not be null; pass CallOptions.NONE for none");
      assertThatThrownBy(() -> p.predict(row(LATE), Duration.ofMillis(10)))
          .isInstanceOf(PredictionTimeoutException.class);
    }
    assertThat(events)
        .extracting(PredictionEvent::outcome, PredictionEvent::requestKey)
        .containsExactly(tuple(Outcome.TIMEOUT, ""));
  }

  @Test
  void aDeadlineCenturiesAwayNeitherOverflowsNorExpiresWhateverTheTickersOrigin() throws Exception {
    Duration far = Duration.ofDays(365L * 1000);
    for (long origin : new long[] {Long.MIN_VALUE / 2, 0, Long.MAX_VALUE / 2}) {
      try (Mlops runtime =
              Mlops.builder()
                  .registry(mlops.registry())
                  .ticker(() -> origin + System.nanoTime())
                  .build();
          Predictor<float[], float[]> direct =
              runtime.predictor("models:/tiny/1", Codecs.floatRow());
          Predictor<float[], float[]> batched =
              runtime
                  .newPredictor(ModelRef.parse("models:/tiny/1"), Codecs.floatRow())
                  .batching(BatchingOptions.builder().maxQueueDelay(far).maxBatchSize(1).build())
                  .build()) {
        assertThat(direct.predict(row(1), far).version()).isEqualTo(1);
        assertThat(direct.predict(row(1), CallOptions.NONE.deadline(far)).version()).isEqualTo(1);
        assertThat(batched.predict(row(1), far).version()).isEqualTo(1);
        assertThat(
                batched
                    .predictAsync(row(1), CallOptions.NONE.deadline(far))
                    .get(10, TimeUnit.SECONDS)
                    .version())
            .isEqualTo(1);
      }
    }
  }
}
