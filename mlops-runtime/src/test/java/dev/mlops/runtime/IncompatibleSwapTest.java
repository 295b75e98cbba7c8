package dev.mlops.runtime;

import static dev.mlops.runtime.HotSwapFixtures.await;
import static dev.mlops.runtime.HotSwapFixtures.awaitServing;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.IncompatibleSignatureException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.testing.CapturedLogs;
import dev.mlops.runtime.testing.Graphs;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * A version whose inputs differ from what callers send is never swapped in silently: alias moves
 * refuse it naming each difference, and a predictor that meets one (a forced move, {@code latest})
 * keeps serving its version.
 */
class IncompatibleSwapTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "release");

  @TempDir Path tmp;
  private Mlops mlops;
  private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void open() {
    CapturedLogs.clear();
    mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build();
    mlops.addListener(events::add);
  }

  @AfterEach
  void close() {
    mlops.close();
  }

  private void register(String model, Path file) {
    mlops
        .registry()
        .register(Registration.builder(model, ArtifactSource.file(file)).build(), ALICE);
  }

  private List<AuditEntry> audit(AuditAction action) {
    return mlops.registry().auditLog().stream().filter(a -> a.action() == action).toList();
  }

  @Test
  void setAliasAndCompareAndSetRefuseAnIncompatibleVersionNamingEachDifferenceBeforeLoadingIt() {
    register("m", TestModels.copy(TestModels.TINY, tmp.resolve("a")));
    register("m", Graphs.copy("tiny-double.onnx", tmp));
    mlops.registry().setAlias("m", "production", 1, ALICE);
    long loaded = mlops.sessionStats().opened();

    assertThatThrownBy(() -> mlops.registry().setAlias("m", "production", 2, ALICE))
        .isInstanceOf(IncompatibleSignatureException.class)
        .hasMessage(
            "refusing to point models:/m@production at version 2: its signature is incompatible with"
                + " version 1, which the alias points at now: input 'x': element type float32 became float64; output 'y':"
                + " element type float32 became float64. Predictors following the alias would fail every call; use"
                + " forceAlias to move it anyway (they keep serving version 1 until the alias points at a compatible"
                + " version)")
        .satisfies(
            e ->
                assertThat(((IncompatibleSignatureException) e).differences())
                    .containsExactly(
                        "input 'x': element type float32 became float64",
                        "output 'y': element type float32 became float64"));
    assertThatThrownBy(() -> mlops.registry().compareAndSetAlias("m", "production", 1, 2, ALICE))
        .isInstanceOf(IncompatibleSignatureException.class);

    assertThat(mlops.registry().aliases("m")).containsEntry("production", 1L);
    assertThat(mlops.sessionStats().opened())
        .as("no load of the refused version")
        .isEqualTo(loaded);
    assertThat(audit(AuditAction.SET_ALIAS)).hasSize(1);
    // A new alias has nothing to be compatible with.
    mlops.registry().setAlias("m", "doubles", 2, ALICE);
  }

  @Test
  void aFixedDimensionBecomingDynamicIsAcceptedButNotTheReverse() throws Exception {
    register("m", Graphs.copy("tiny-fixed-batch.onnx", tmp));
    register("m", TestModels.copy(TestModels.TINY, tmp.resolve("a")));
    mlops.registry().setAlias("m", "production", 1, ALICE);
    Predictor<float[], float[]> p = mlops.predictor("models:/m@production", Codecs.floatRow());
    assertThat(p.predict(new float[] {1, 2, 3, 4}).version()).isEqualTo(1);

    mlops.registry().setAlias("m", "production", 2, ALICE);
    awaitServing(p, 2);
    assertThat(p.predict(new float[] {1, 2, 3, 4}).version()).isEqualTo(2);
    assertThatThrownBy(() -> mlops.registry().setAlias("m", "production", 1, ALICE))
        .isInstanceOf(IncompatibleSignatureException.class)
        .hasMessageContaining(
            "input 'x': dimension 0 was dynamic and is now fixed at 1 (float32[?,4] -> float32[1,4])");
  }

  @Test
  void underAForcedMoveSixteenCallersFailNoCallAndTheOldVersionKeepsServing() throws Exception {
    register("m", TestModels.copy(TestModels.TINY, tmp.resolve("a")));
    register("m", TestModels.copy(TestModels.MIXED_INPUTS, tmp.resolve("b")));
    register("m", TestModels.copy(TestModels.TINY, tmp.resolve("c")));
    mlops.registry().setAlias("m", "production", 1, ALICE);
    Predictor<float[], float[]> p = mlops.predictor("models:/m@production", Codecs.floatRow());

    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong calls = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    AtomicLong notV1 = new AtomicLong();
    List<Thread> callers = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      Thread t =
          new Thread(
              () -> {
                float[] row = {1, 2, 3, 4};
                while (!stop.get()) {
                  try {
                    if (p.predict(row).version() != 1) {
                      notV1.incrementAndGet();
                    }
                  } catch (RuntimeException e) {
                    failures.incrementAndGet();
                  }
                  calls.incrementAndGet();
                }
              });
      t.start();
      callers.add(t);
    }
    await(() -> calls.get() > 1_000, Duration.ofSeconds(20), "calls before the move");
    mlops.registry().forceAlias("m", "production", 2, AuditInfo.by("mallory", "skip the checks"));
    await(
        () -> events.stream().anyMatch(e -> e instanceof LifecycleEvent.SwapRefused),
        Duration.ofSeconds(20),
        "the refused swap");
    long atRefusal = calls.get();
    await(() -> calls.get() > atRefusal + 1_000, Duration.ofSeconds(20), "calls after the refusal");
    stop.set(true);
    HotSwapFixtures.joinAll(callers, Duration.ofSeconds(20));

    assertThat(failures.get()).as("failed calls").isZero();
    assertThat(notV1.get()).as("calls not served by v1").isZero();
    assertThat(p.servingVersion().orElseThrow().version()).isEqualTo(1);
    assertThat(events)
        .filteredOn(e -> e instanceof LifecycleEvent.SwapRefused)
        .singleElement()
        .satisfies(
            e -> {
              LifecycleEvent.SwapRefused r = (LifecycleEvent.SwapRefused) e;
              assertThat(r.target()).isEqualTo("models:/m@production");
              assertThat(r.fromVersion()).isEqualTo(1);
              assertThat(r.toVersion()).isEqualTo(2);
              assertThat(r.differences())
                  .contains(
                      "input 'x' (float32[?,4]) is gone", "output 'y' (float32[?,2]) is gone");
            });
    assertThat(audit(AuditAction.SWAP_REFUSED))
        .singleElement()
        .satisfies(
            a ->
                assertThat(a.details())
                    .containsEntry("version", "2")
                    .containsEntry("serving", "1")
                    .containsEntry("target", "models:/m@production")
                    .hasEntrySatisfying(
                        "error",
                        err -> assertThat(err).contains("input 'x' (float32[?,4]) is gone")));
    assertThat(
            mlops
                .registry()
                .failures(java.time.Instant.EPOCH, java.time.Instant.now().plusSeconds(60)))
        .extracting(AuditEntry::action)
        .containsExactly(AuditAction.SWAP_REFUSED);
    assertThat(audit(AuditAction.SET_ALIAS))
        .last()
        .satisfies(
            a ->
                assertThat(a.details())
                    .containsEntry("forced", "true")
                    .containsKey("incompatible"));
    assertThat(CapturedLogs.lines(Level.WARN, "dev.mlops"))
        .filteredOn(l -> l.message().contains("keeps serving"))
        .singleElement()
        .satisfies(
            l ->
                assertThat(l.message())
                    .startsWith(
                        "models:/m@production keeps serving models:/m/1 instead of switching to models:/m/2, whose signature is"
                            + " incompatible: "));

    // The reference resolves to a compatible version again: the predictor switches.
    mlops.registry().forceAlias("m", "production", 3, ALICE);
    awaitServing(p, 3);
    assertThat(p.predict(new float[] {1, 2, 3, 4}).version()).isEqualTo(3);
  }

  @Test
  void aPredictorFollowingLatestKeepsItsVersionWhenAnIncompatibleOneIsRegistered()
      throws Exception {
    register("m", TestModels.copy(TestModels.TINY, tmp.resolve("a")));
    Predictor<float[], float[]> p = mlops.predictor("models:/m", Codecs.floatRow());
    register("m", Graphs.copy("tiny-double.onnx", tmp));
    await(
        () -> events.stream().anyMatch(e -> e instanceof LifecycleEvent.SwapRefused),
        Duration.ofSeconds(20),
        "the refused swap");
    assertThat(p.predict(new float[] {1, 2, 3, 4}).version()).isEqualTo(1);
    assertThat(audit(AuditAction.SWAP_REFUSED)).hasSize(1);

    register("m", TestModels.copy(TestModels.TINY, tmp.resolve("c")));
    awaitServing(p, 3);
  }

  @Test
  void aPredictorThatAcceptsIncompatibleVersionsSwitches() throws Exception {
    register("m", TestModels.copy(TestModels.TINY, tmp.resolve("a")));
    register("m", Graphs.copy("tiny-double.onnx", tmp));
    mlops.registry().setAlias("m", "production", 1, ALICE);
    Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
        mlops
            .newPredictor(ModelRef.parse("models:/m@production"), Codecs.tensors())
            .acceptIncompatibleVersions()
            .build();
    mlops.registry().forceAlias("m", "production", 2, ALICE);
    awaitServing(p, 2);
    Map<String, Tensor> out =
        p.predict(Map.of("x", Tensor.ofDoubles(new double[] {1, 2, 3, 4}, 1, 4))).value();
    assertThat(out.get("y").type()).isEqualTo(dev.mlops.api.ElementType.DOUBLE);
    assertThat(events).noneMatch(e -> e instanceof LifecycleEvent.SwapRefused);
  }
}
