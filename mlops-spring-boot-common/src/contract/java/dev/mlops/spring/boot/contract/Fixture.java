package dev.mlops.spring.boot.contract;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.testmodels.TestModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A registry directory with cancer v1, v2 (production -> v1) and tiny v1, made once. */
public final class Fixture {

  private static Path registry;

  private Fixture() {}

  /** The shared registry directory (not to be changed), made on first use. */
  public static synchronized Path registry() {
    if (registry == null) {
      registry = fresh();
    }
    return registry;
  }

  /** A new registry directory of its own, for a test that changes it. */
  public static Path fresh() {
    try {
      Path root = Files.createTempDirectory("mlops-boot-test-");
      Path dir = root.resolve("registry");
      Path files = root.resolve("files");
      try (Mlops m = Mlops.builder().localRegistry(dir).build()) {
        var r = m.registry();
        AuditInfo audit = AuditInfo.by("test", "fixture");
        r.register(
            Registration.builder(
                    "cancer",
                    ArtifactSource.file(TestModels.copy(TestModels.BREAST_CANCER_V1, files)))
                .build(),
            audit);
        r.register(
            Registration.builder(
                    "cancer",
                    ArtifactSource.file(TestModels.copy(TestModels.BREAST_CANCER_V2, files)))
                .build(),
            audit);
        r.setAlias("cancer", "production", 1, audit);
        r.register(
            Registration.builder(
                    "tiny", ArtifactSource.file(TestModels.copy(TestModels.TINY, files)))
                .build(),
            audit);
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
