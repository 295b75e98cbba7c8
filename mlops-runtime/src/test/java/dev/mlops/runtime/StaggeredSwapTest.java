package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Staggered swaps: a fleet's instances do not all load a new version at the same instant. */
class StaggeredSwapTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "test");

  @TempDir Path tmp;

  private void registerTwo(Mlops mlops) {
    for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
                  .build(),
              OPS);
    }
  }

  @Test
  void aSwapDelayKeepsTheOldVersionServingUntilItHasPassed() {
    Duration delay = Duration.ofSeconds(3);
    try (Mlops mlops =
        Mlops.builder().localRegistry(tmp.resolve("registry")).swapDelay(delay).build()) {
      registerTwo(mlops);
      mlops.registry().forceAlias("cancer", "production", 1, OPS);
      Predictor<float[], float[]> p =
          mlops
              .newPredictor(ModelRef.parse("models:/cancer@production"), Codecs.floatRow())
              .build();
      float[] row = new float[30];
      assertThat(p.predict(row).version()).isEqualTo(1);

      long moved = System.nanoTime();
      mlops.registry().forceAlias("cancer", "production", 2, OPS);
      // Every call until the delay has passed answers from version 1; afterwards, version 2.
      Set<Long> early = new HashSet<>();
      long switchedAt = 0;
      while (System.nanoTime() - moved < TimeUnit.SECONDS.toNanos(60)) {
        long before = System.nanoTime();
        long v = p.predict(row).version();
        if (v == 2) {
          switchedAt = before;
          break;
        }
        early.add(v);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      }
      assertThat(early).containsExactly(1L);
      assertThat(switchedAt).as("the predictor switched to version 2").isNotZero();
      assertThat(Duration.ofNanos(switchedAt - moved)).isGreaterThanOrEqualTo(delay);
      assertThat(mlops.state().swapDelay()).isEqualTo(delay);
    }
  }

  @Test
  void anEndedRolloutStopsRoutingAtOnceWhateverTheSwapDelay() {
    try (Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .swapDelay(Duration.ofSeconds(60))
            .build()) {
      registerTwo(mlops);
      mlops.registry().forceAlias("cancer", "production", 1, OPS);
      mlops
          .registry()
          .startRollout(
              "cancer", "production", dev.mlops.api.RolloutSpec.of(2).weightPercent(100), OPS);
      Predictor<float[], float[]> p =
          mlops
              .newPredictor(ModelRef.parse("models:/cancer@production"), Codecs.floatRow())
              .build();
      float[] row = new float[30];
      assertThat(p.predict(row).version()).as("routed from the first call").isEqualTo(2);

      mlops.registry().abortRollout("cancer", "production", AuditInfo.by("ops", "bad canary"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (p.predict(row).version() != 1 && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      }
      assertThat(p.predict(row).version())
          .as("served after the abort, well before the 60 s swap delay")
          .isEqualTo(1);
    }
  }

  @Test
  void aRandomStaggerIsPickedOnceWithinItsBound() {
    Set<Duration> picked = new HashSet<>();
    for (int i = 0; i < 8; i++) {
      try (Mlops mlops =
          Mlops.builder()
              .localRegistry(tmp.resolve("registry-" + i))
              .staggerSwaps(Duration.ofSeconds(30))
              .build()) {
        Duration d = mlops.state().swapDelay();
        assertThat(d).isBetween(Duration.ZERO, Duration.ofSeconds(30));
        assertThat(mlops.state().swapDelay()).as("picked once").isEqualTo(d);
        picked.add(d);
      }
    }
    assertThat(picked).as("eight instances picked different delays").hasSizeGreaterThan(1);
  }

  @Test
  void aSwapDelayIsSetOnceAndNeverNegative() {
    assertThatThrownBy(
            () -> Mlops.builder().staggerSwaps(Duration.ofSeconds(1)).swapDelay(Duration.ZERO))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("swapDelay: a swap delay was already set (staggerSwaps PT1S)");
    assertThatThrownBy(() -> Mlops.builder().swapDelay(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("swapDelay must not be negative");
  }
}
