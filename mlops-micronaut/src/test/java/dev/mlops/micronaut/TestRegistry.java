package dev.mlops.micronaut;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A directory registry for the tests: cancer v1 (logistic regression) and v2 (MLP), production ->
 * v1, and tiny v1.
 */
final class TestRegistry {

  static final AuditInfo CI = AuditInfo.by("ci", "test fixture");

  private TestRegistry() {}

  static Path create(Path dir) {
    Path models = dir.resolve("models");
    Path files = dir.resolve("files");
    try (GovernedRegistry r = LocalModelRegistry.open(models)) {
      register(r, "cancer", TestModels.BREAST_CANCER_V1, files);
      register(r, "cancer", TestModels.BREAST_CANCER_V2, files);
      register(r, "tiny", TestModels.TINY, files);
      r.setAlias("cancer", "production", 1, CI);
    }
    return models;
  }

  private static ModelVersion register(GovernedRegistry r, String name, String file, Path dir) {
    Path copy = TestModels.copy(file, dir.resolve(name + "-" + file.replace(".onnx", "")));
    return r.register(Registration.builder(name, ArtifactSource.file(copy)).build(), CI);
  }

  /** Appends bytes to a version's stored model file, so that its digest no longer matches. */
  static void tamper(GovernedRegistry registry, ModelVersion v) {
    Path file = registry.artifacts().materialize(v.digest(), v.files()).resolve(v.modelFile());
    try {
      Files.write(file, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
