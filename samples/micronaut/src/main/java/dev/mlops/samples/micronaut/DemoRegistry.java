package dev.mlops.samples.micronaut;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Registration;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;

/** Registers the sample's models: cancer v1 (logistic regression), v2 (MLP), production -> v1. */
public final class DemoRegistry {

  private DemoRegistry() {}

  /**
   * Creates the registry at {@code models}.
   *
   * @param scratch where the model files are copied from
   */
  public static void seed(Path models, Path scratch) {
    try (GovernedRegistry r = LocalModelRegistry.open(models)) {
      AuditInfo ci = AuditInfo.by("ci-pipeline", "sample models");
      r.register(
          Registration.builder(
                  "cancer",
                  ArtifactSource.file(
                      TestModels.copy(TestModels.BREAST_CANCER_V1, scratch.resolve("v1"))))
              .description("logistic regression")
              .build(),
          ci);
      r.register(
          Registration.builder(
                  "cancer",
                  ArtifactSource.file(
                      TestModels.copy(TestModels.BREAST_CANCER_V2, scratch.resolve("v2"))))
              .description("MLP (32, 16)")
              .build(),
          ci);
      r.setAlias("cancer", "production", 1, ci);
    }
  }
}
