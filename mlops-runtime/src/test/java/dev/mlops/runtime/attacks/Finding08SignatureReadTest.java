package dev.mlops.runtime.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.Tensor;
import dev.mlops.runtime.local.CountingEngine;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.runtime.testing.Graphs;
import dev.mlops.runtime.validation.ChildJvmValidator;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registration reads a new version's signature in this process without letting ONNX Runtime
 * optimise the graph (constant folding is where a tiny model can make it build gigabytes): the one
 * session it opens, with or without child-JVM validation, has optimisation {@code NONE}. The real
 * engine counts the sessions and records their options.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Finding08SignatureReadTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "signature read");

  @TempDir Path tmp;

  private ModelVersion register(GovernedRegistry registry, boolean example) {
    Path copy = Graphs.copy("constant-of-shape.onnx", tmp.resolve("src-" + System.nanoTime()));
    Registration.Builder r = Registration.builder("cos", ArtifactSource.file(copy));
    if (example) {
      r.inputExample(Map.of("shape", Tensor.ofLongs(new long[] {2, 3}, 2)));
    }
    return registry.register(r.build(), OPS);
  }

  @Test
  void registrationWithChildJvmValidationOpensNoOptimisedSessionInTheParent() {
    Decoys d = Decoys.in(tmp.resolve("outside"));
    CountingEngine engine = new CountingEngine();
    try (GovernedRegistry registry =
        LocalModelRegistry.builder(tmp.resolve("registry"))
            .engine(engine)
            .validateInChildJvm(ChildJvmValidator.defaults())
            .build()) {
      ModelVersion v = register(registry, false);
      ModelVersion w = register(registry, true);

      assertThat(v.signature().inputs()).singleElement().matches(s -> s.name().equals("shape"));
      assertThat(w.signature()).isEqualTo(v.signature());
      assertThat(engine.opens.get()).as("sessions opened in this JVM").isEqualTo(2);
      assertThat(engine.optionsUsed)
          .hasSize(2)
          .allSatisfy(
              o ->
                  assertThat(o.optimizationLevel())
                      .isEqualTo(SessionOptions.OptimizationLevel.NONE));
    } finally {
      engine.close();
    }
    d.assertUntouched();
  }

  @Test
  void registrationWithoutValidationAlsoReadsTheSignatureUnoptimised() {
    Decoys d = Decoys.in(tmp.resolve("outside"));
    CountingEngine engine = new CountingEngine();
    try (GovernedRegistry registry =
        LocalModelRegistry.builder(tmp.resolve("registry")).engine(engine).build()) {
      register(registry, true);
      assertThat(engine.optionsUsed)
          .singleElement()
          .satisfies(
              o ->
                  assertThat(o.optimizationLevel())
                      .isEqualTo(SessionOptions.OptimizationLevel.NONE));
    } finally {
      engine.close();
    }
    d.assertUntouched();
  }
}
