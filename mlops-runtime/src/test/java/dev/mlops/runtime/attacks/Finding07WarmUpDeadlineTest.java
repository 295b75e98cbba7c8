package dev.mlops.runtime.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.api.WarmUpTimeoutException;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.runtime.testing.Graphs;
import dev.mlops.runtime.validation.ChildJvmValidator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 306-byte model whose {@code Loop} has a trip count of 2^62 ({@code loop-forever.onnx}): every
 * run the library starts on it (a warm-up on synthetic inputs or on an input example, the
 * registration's run of its input example, the run before an alias moves, a child JVM's trial run)
 * is terminated at its deadline and fails with a {@link WarmUpTimeoutException} naming the model,
 * the deadline and the option that sets it; nothing it would have replaced changes. The deadline is
 * 200 ms here; the tests assert only that the typed error arrives (each would hang otherwise), with
 * {@link Timeout} as the safety net.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Finding07WarmUpDeadlineTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "warm-up deadline");
  private static final Duration SHORT = Duration.ofMillis(200);
  private static final Map<String, Tensor> EXAMPLE =
      Map.of("x", Tensor.ofFloats(new float[] {1, 2, 3}, 3));

  @TempDir Path tmp;
  private Decoys decoys;
  private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void recordDecoys() {
    decoys = Decoys.in(tmp.resolve("outside"));
  }

  @AfterEach
  void checkDecoys() {
    decoys.assertUntouched();
  }

  private Mlops runtime(Duration warmUpDeadline) {
    Mlops mlops =
        Mlops.builder()
            .registry(LocalModelRegistry.builder(tmp.resolve("registry")).build())
            .warmUpDeadline(warmUpDeadline)
            .build();
    mlops.addListener(events::add);
    return mlops;
  }

  private ModelVersion register(GovernedRegistry registry, String model, String file) {
    Path copy = Graphs.copy(file, tmp.resolve("src-" + System.nanoTime()));
    return registry.register(Registration.builder(model, ArtifactSource.file(copy)).build(), OPS);
  }

  private static void assertTimedOut(Throwable e, Duration deadline, String model) {
    assertThat(e).isInstanceOf(WarmUpTimeoutException.class).isInstanceOf(ModelLoadException.class);
    assertThat(((WarmUpTimeoutException) e).deadline()).isEqualTo(deadline);
    assertThat(e.getMessage())
        .contains(model)
        .contains("did not finish within its deadline of " + deadline)
        .contains("warmUpDeadline");
  }

  @Test
  void aPredictorOnTheLoopFailsWithTheTypedErrorAtTheRuntimesDeadline() throws Exception {
    try (Mlops mlops = runtime(SHORT)) {
      register(mlops.registry(), "loop", "loop-forever.onnx");

      Throwable e =
          org.assertj.core.api.Assertions.catchThrowable(
              () -> mlops.predictor("models:/loop/1", Codecs.floatRow()));
      assertTimedOut(e, SHORT, "models:/loop/1");
      assertThat(e.getMessage())
          .contains("x:float32[1]")
          .contains("Mlops.builder().warmUpDeadline");
      assertThat(e.getCause()).isInstanceOf(PredictionTimeoutException.class);
      assertThat(mlops.state().predictors()).isEmpty();
      assertThat(mlops.sessionStats().loaded()).isZero();
      assertThat(events).filteredOn(LifecycleEvent.ModelLoadFailed.class::isInstance).hasSize(1);
      assertThat(events).noneMatch(LifecycleEvent.WarmUpFailed.class::isInstance);
    }
  }

  @Test
  void aPredictorsOwnDeadlineAppliesOverTheRuntimesDefault() throws Exception {
    try (Mlops mlops = runtime(WarmUpPolicy.DEFAULT_DEADLINE)) {
      register(mlops.registry(), "loop", "loop-forever.onnx");
      Throwable e =
          org.assertj.core.api.Assertions.catchThrowable(
              () ->
                  mlops
                      .newPredictor(
                          dev.mlops.api.ModelRef.parse("models:/loop/1"), Codecs.floatRow())
                      .warmUpDeadline(SHORT)
                      .build());
      assertTimedOut(e, SHORT, "models:/loop/1");
      assertThat(mlops.sessionStats().loaded()).isZero();
    }
  }

  @Test
  void registrationWithTheLoopAsInputExampleIsRefusedAndTheRegistryIsUnchanged() {
    try (GovernedRegistry registry =
        LocalModelRegistry.builder(tmp.resolve("registry")).warmUpDeadline(SHORT).build()) {
      register(registry, "loop", "loop-once.onnx");
      Path copy = Graphs.copy("loop-forever.onnx", tmp.resolve("src-hostile"));
      long auditBefore = registry.audit(dev.mlops.api.AuditQuery.all()).size();

      Throwable e =
          org.assertj.core.api.Assertions.catchThrowable(
              () ->
                  registry.register(
                      Registration.builder("loop", ArtifactSource.file(copy))
                          .inputExample(EXAMPLE)
                          .build(),
                      OPS));

      assertTimedOut(e, SHORT, "models:/loop");
      assertThat(e.getMessage()).contains("with its input example").contains("LocalModelRegistry");
      assertThat(registry.versions("loop")).extracting(ModelVersion::version).containsExactly(1L);
      assertThat(registry.audit(dev.mlops.api.AuditQuery.all())).hasSize((int) auditBefore);
    }
  }

  @Test
  void registrationWithoutAnInputExampleRunsNothingAndItsFirstLoadTimesOut() {
    try (Mlops mlops = runtime(SHORT)) {
      ModelVersion v = register(mlops.registry(), "loop", "loop-forever.onnx");
      assertThat(v.version()).isEqualTo(1);
      assertThatThrownBy(() -> mlops.predictor("models:/loop/1", Codecs.floatRow()))
          .isInstanceOf(WarmUpTimeoutException.class);
    }
  }

  @Test
  void setAliasToTheLoopIsRefusedAndTheAliasStays() {
    try (Mlops mlops = runtime(SHORT)) {
      register(mlops.registry(), "loop", "loop-once.onnx");
      register(mlops.registry(), "loop", "loop-forever.onnx");
      mlops.registry().setAlias("loop", "production", 1, OPS);

      Throwable e =
          org.assertj.core.api.Assertions.catchThrowable(
              () -> mlops.registry().setAlias("loop", "production", 2, OPS));

      assertTimedOut(e, SHORT, "models:/loop/2");
      assertThat(e)
          .hasMessageContaining("refusing to point an alias at models:/loop/2")
          .hasMessageContaining("did not finish within its deadline of " + SHORT);
      assertThat(e.getCause()).isInstanceOf(WarmUpTimeoutException.class);
      assertThat(mlops.registry().aliases("loop")).containsExactly(Map.entry("production", 1L));
    }
  }

  @Test
  void aPredictorServingV1KeepsServingItWhenTheAliasIsForcedToTheLoop() throws Exception {
    try (Mlops mlops = runtime(SHORT)) {
      register(mlops.registry(), "loop", "loop-once.onnx");
      register(mlops.registry(), "loop", "loop-forever.onnx");
      mlops.registry().setAlias("loop", "production", 1, OPS);
      Predictor<float[], float[]> p = mlops.predictor("models:/loop@production", Codecs.floatRow());
      assertThat(p.predict(new float[] {4f}).version()).isEqualTo(1);

      mlops.registry().forceAlias("loop", "production", 2, OPS);

      // The swap loads v2 on the swap executor; its warm-up is terminated at the deadline.
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (events.stream()
              .noneMatch(
                  ev ->
                      ev instanceof LifecycleEvent.ModelLoadFailed f
                          && f.version() == 2
                          && f.cause() instanceof WarmUpTimeoutException)
          && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      assertThat(events)
          .filteredOn(LifecycleEvent.ModelLoadFailed.class::isInstance)
          .map(ev -> ((LifecycleEvent.ModelLoadFailed) ev).cause())
          .singleElement()
          .isInstanceOf(WarmUpTimeoutException.class);
      assertThat(p.predict(new float[] {4f}).version()).isEqualTo(1);
      assertThat(p.predict(new float[] {4f}).value()).containsExactly(4f);
      assertThat(p.servingVersion().map(ModelVersion::version)).contains(1L);
      assertThat(events).noneMatch(LifecycleEvent.VersionSwapped.class::isInstance);
    }
  }

  @Test
  void aChildJvmTrialRunOfTheLoopIsRefusedAtTheValidatorsDeadline() {
    ChildJvmValidator validator = ChildJvmValidator.builder().warmUpDeadline(SHORT).build();
    try (GovernedRegistry registry =
        LocalModelRegistry.builder(tmp.resolve("registry")).validateInChildJvm(validator).build()) {
      Throwable e =
          org.assertj.core.api.Assertions.catchThrowable(
              () -> register(registry, "loop", "loop-forever.onnx"));
      assertTimedOut(e, SHORT, "loop-forever.onnx");
      assertThat(e.getMessage()).contains("ChildJvmValidator.builder().warmUpDeadline");
      assertThat(registry.versions("loop")).isEmpty();
    }
  }

  @Test
  void closingTheRuntimeDuringAHungLoadEndsItWithClosedException() throws Exception {
    Mlops mlops = runtime(Duration.ofHours(1));
    register(mlops.registry(), "loop", "loop-forever.onnx");
    java.util.concurrent.atomic.AtomicReference<Throwable> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread loader =
        new Thread(
            () -> {
              try {
                mlops.predictor("models:/loop/1", Codecs.floatRow());
              } catch (Throwable t) {
                failure.set(t);
              }
            },
            "loader");
    loader.start();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (mlops.state().loading().isEmpty() && System.nanoTime() < until) {
      Thread.sleep(1);
    }
    assertThat(mlops.state().loading()).as("loads in flight").hasSize(1);

    mlops.close();
    loader.join(TimeUnit.SECONDS.toMillis(60));

    assertThat(loader.isAlive()).as("the load still runs after close").isFalse();
    // Terminated inside ONNX Runtime, or refused before it got there: either way a ClosedException.
    assertThat(failure.get()).isInstanceOf(dev.mlops.api.ClosedException.class);
    assertThat(mlops.state().loading()).isEmpty();
    assertThat(mlops.sessionStats().loaded()).isZero();
  }

  @Test
  void deadlinesMustBePositiveAndAreSetOnce() {
    assertThatThrownBy(() -> Mlops.builder().warmUpDeadline(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warmUpDeadline must be positive");
    assertThatThrownBy(() -> Mlops.builder().warmUpDeadline(SHORT).warmUpDeadline(SHORT))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("warmUpDeadline");
    assertThatThrownBy(() -> ChildJvmValidator.builder().warmUpDeadline(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                ChildJvmValidator.builder()
                    .warmUpDeadline(Duration.ofSeconds(60))
                    .timeout(Duration.ofSeconds(60))
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("warmUpDeadline (PT1M) must be shorter than timeout (PT1M)");
    assertThat(ChildJvmValidator.defaults().warmUpDeadline())
        .isEqualTo(WarmUpPolicy.DEFAULT_DEADLINE)
        .isEqualTo(Duration.ofSeconds(30));
  }
}
