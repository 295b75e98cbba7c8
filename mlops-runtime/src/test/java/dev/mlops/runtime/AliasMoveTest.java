package dev.mlops.runtime;

import static dev.mlops.runtime.HotSwapFixtures.awaitServing;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.local.CountingEngine;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.Graphs;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The check before an alias moves goes through the runtime's session cache: a version is loaded
 * once, the session loaded is the one predictors serve, and a move to a loaded version loads
 * nothing.
 */
class AliasMoveTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "release");

  @TempDir Path tmp;

  @Test
  void aMoveLoadsTheVersionOnceAndAMoveBackToALoadedVersionLoadsNothing() throws Exception {
    try (CountingEngine engine = new CountingEngine();
        Mlops mlops =
            Mlops.builder().localRegistry(tmp.resolve("registry")).engine(engine).build()) {
      for (String file : new String[] {TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2}) {
        mlops
            .registry()
            .register(
                Registration.builder(
                        "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
                    .build(),
                ALICE);
      }
      int registering = engine.opens.get();

      mlops.registry().setAlias("cancer", "production", 1, ALICE);
      assertThat(engine.opens.get() - registering)
          .as("models opened by the first move")
          .isEqualTo(1);
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      assertThat(engine.opens.get() - registering)
          .as("the predictor serves the session the move loaded")
          .isEqualTo(1);

      mlops.registry().setAlias("cancer", "production", 2, ALICE);
      awaitServing(p, 2);
      assertThat(engine.opens.get() - registering)
          .as("the swap serves the session the move loaded")
          .isEqualTo(2);

      mlops.registry().setAlias("cancer", "production", 1, ALICE);
      awaitServing(p, 1);
      mlops.registry().setAlias("cancer", "production", 2, ALICE);
      awaitServing(p, 2);
      assertThat(engine.opens.get() - registering).as("moves between loaded versions").isEqualTo(2);
      assertThat(mlops.sessionStats().opened()).isEqualTo(2);
    }
  }

  @Test
  void withoutARuntimeTheRegistryOpensTheVersionAndDoesNotNeedTheSyntheticRunToPass() {
    Path file = Graphs.copy("pad-reflect.onnx", tmp);
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry =
            LocalModelRegistry.builder(tmp.resolve("registry")).engine(engine).build()) {
      registry.register(Registration.builder("pad", ArtifactSource.file(file)).build(), ALICE);
      int before = engine.opens.get();
      registry.setAlias("pad", "production", 1, ALICE);
      assertThat(engine.opens.get() - before).isEqualTo(1);
      assertThat(registry.aliases("pad")).containsEntry("production", 1L);
    }
  }

  @Test
  void argumentsAreCheckedBeforeAnythingIsLoaded() {
    try (CountingEngine engine = new CountingEngine();
        Mlops mlops =
            Mlops.builder().localRegistry(tmp.resolve("registry")).engine(engine).build()) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "tiny", ArtifactSource.file(TestModels.copy(TestModels.TINY, tmp)))
                  .build(),
              ALICE);
      int before = engine.opens.get();
      assertThatThrownBy(() -> mlops.registry().setAlias("tiny", "production", 1, null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("audit");
      assertThatThrownBy(
              () -> mlops.registry().compareAndSetAlias("tiny", "production", 0, 1, null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("audit");
      assertThatThrownBy(() -> mlops.registry().setAlias("tiny", "latest", 1, ALICE))
          .isInstanceOf(dev.mlops.api.InvalidModelRefException.class)
          .hasMessageContaining("alias 'latest' is reserved");
      assertThat(engine.opens.get()).as("models opened").isEqualTo(before);
      assertThat(mlops.registry().aliases("tiny")).isEmpty();
    }
  }
}
