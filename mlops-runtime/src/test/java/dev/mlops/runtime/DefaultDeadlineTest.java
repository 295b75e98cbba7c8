package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.CallOptions;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Predictor;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A predictor's default deadline applies to calls made without one, on a ticker that moves a second
 * per reading, so every deadline under a second has passed before the engine runs.
 */
class DefaultDeadlineTest {

  @TempDir Path tmp;

  @Test
  void callsWithoutADeadlineGetTheDefaultAndACallsOwnDeadlineWins() throws Exception {
    AtomicLong now = new AtomicLong();
    try (Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .ticker(() -> now.addAndGet(TimeUnit.SECONDS.toNanos(1)))
            .build()) {
      HotSwapFixtures.register(mlops, "cancer", TestModels.BREAST_CANCER_V1, tmp);
      ModelRef ref = ModelRef.parse("models:/cancer/1");
      float[] row = new float[30];
      try (Predictor<float[], float[]> p =
              mlops
                  .newPredictor(ref, Codecs.floatRow())
                  .defaultDeadline(Duration.ofMillis(500))
                  .build();
          Predictor<float[], float[]> none = mlops.newPredictor(ref, Codecs.floatRow()).build()) {
        assertThatThrownBy(() -> p.predict(row)).isInstanceOf(PredictionTimeoutException.class);
        assertThatThrownBy(() -> p.predict(row, CallOptions.NONE.requestKey("k")))
            .isInstanceOf(PredictionTimeoutException.class);
        assertThatThrownBy(() -> p.predictAsync(row).get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(PredictionTimeoutException.class);
        // A call's own deadline wins over the default.
        assertThat(p.predict(row, CallOptions.NONE.deadline(Duration.ofHours(1))).value())
            .hasSize(2);
        assertThat(p.predict(row, Duration.ofHours(1)).value()).hasSize(2);
        // Without a default, a call without a deadline has none.
        assertThat(none.predict(row).value()).hasSize(2);
      }
      assertThatThrownBy(
              () -> mlops.newPredictor(ref, Codecs.floatRow()).defaultDeadline(Duration.ZERO))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("defaultDeadline must be positive");
    }
  }
}
