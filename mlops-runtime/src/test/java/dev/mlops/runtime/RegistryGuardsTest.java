package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ConflictException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Registry changes that would hurt what a runtime serves, or collide on disk, are refused. */
class RegistryGuardsTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "test");

  @TempDir Path tmp;
  private Mlops mlops;

  @BeforeEach
  void open() {
    mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build();
  }

  @AfterEach
  void close() {
    mlops.close();
  }

  private void register(String model) {
    mlops
        .registry()
        .register(
            Registration.builder(
                    model,
                    ArtifactSource.file(
                        TestModels.copy(TestModels.TINY, tmp.resolve("src-" + System.nanoTime()))))
                .build(),
            CI);
  }

  @Test
  void modelNamesThatDifferOnlyInCaseAreRefused() {
    register("Fraud");
    assertThatThrownBy(() -> register("fraud"))
        .isInstanceOf(ConflictException.class)
        .hasMessage(
            "model name 'fraud' differs from the existing model 'Fraud' only in case; such names collide on"
                + " case-insensitive file systems; register it as 'Fraud' or choose another name");
    register("Fraud");
    assertThat(mlops.registry().models()).containsExactly("Fraud");
    assertThat(mlops.registry().versions("Fraud")).hasSize(2);
  }

  @Test
  void deletingAVersionThatAPinnedPredictorServesIsRefusedUnlessForced() {
    register("tiny");
    register("tiny");
    Predictor<float[], float[]> pinned = mlops.predictor("models:/tiny/1", Codecs.floatRow());
    assertThatThrownBy(() -> mlops.registry().delete("tiny", 1, CI))
        .isInstanceOf(ConflictException.class)
        .hasMessageStartingWith(
            "cannot delete models:/tiny/1: 1 open predictor(s) pinned to it serve it")
        .hasMessageContaining("use forceDelete");
    assertThat(mlops.registry().versions("tiny")).hasSize(2);

    mlops.registry().delete("tiny", 2, CI); // nobody serves it
    mlops.registry().forceDelete("tiny", 1, AuditInfo.by("ops", "retire v1 now"));
    assertThat(mlops.registry().versions("tiny")).isEmpty();
    assertThat(mlops.registry().auditLog())
        .filteredOn(a -> a.action() == AuditAction.DELETE_VERSION)
        .extracting(a -> a.details().getOrDefault("forced", "false"))
        .containsExactly("false", "true");
    // The pinned predictor keeps serving the copy it loaded until it is closed.
    assertThat(pinned.predict(new float[4]).version()).isEqualTo(1);
    pinned.close();
  }

  @Test
  void aClosedPredictorNoLongerHoldsItsVersion() {
    register("tiny");
    mlops.predictor("models:/tiny/1", Codecs.floatRow()).close();
    mlops.registry().delete("tiny", 1, CI);
    assertThat(mlops.registry().versions("tiny")).isEmpty();
  }
}
