package dev.mlops.runtime.local;

import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.validation.ChildJvmValidator;
import dev.mlops.runtime.validation.TestValidators;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With child-JVM validation, a model that would crash the process never reaches this one. */
class ChildJvmRegistrationTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "child jvm");

  @TempDir Path tmp;

  @Test
  void goodModelIsValidatedInAChildAndRegistered() {
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry =
            LocalModelRegistry.builder(tmp.resolve("reg"))
                .engine(engine)
                .validateInChildJvm(ChildJvmValidator.defaults())
                .build()) {
      Path file = TestModels.copy(TestModels.MIXED_INPUTS, tmp);
      ModelVersion v =
          registry.register(
              Registration.builder("mixed", ArtifactSource.file(file)).build(), ALICE);
      assertThat(v.signature().inputs()).hasSize(2);
      assertThat(engine.opens.get()).as("in-process opens, after the child's").isEqualTo(1);
    }
  }

  @Test
  void modelWhoseValidationCrashesTheChildIsRefusedAndNeverOpenedHere() throws Exception {
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry =
            LocalModelRegistry.builder(tmp.resolve("reg"))
                .engine(engine)
                .validateInChildJvm(TestValidators.crashing())
                .build()) {
      SortedMap<String, String> before = snapshot(LocalModelRegistry.root(registry).orElseThrow());
      Path file = TestModels.copy(TestModels.TINY, tmp);

      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("tiny", ArtifactSource.file(file)).build(), ALICE))
          .isInstanceOf(ModelLoadException.class)
          .hasMessageStartingWith(
              "cannot register "
                  + file
                  + " as a new version of models:/tiny: validation in a"
                  + " child JVM crashed: exit code 134");

      assertThat(engine.opens.get()).as("models handed to ONNX Runtime in this JVM").isZero();
      assertThat(snapshot(LocalModelRegistry.root(registry).orElseThrow())).isEqualTo(before);
      assertThat(stagingEntries(LocalModelRegistry.root(registry).orElseThrow())).isEmpty();
      assertThat(registry.models()).isEmpty();
    }
  }
}
