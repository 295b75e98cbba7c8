package dev.mlops.samples.springboot;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.testmodels.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The service: a plain Spring Boot application; mlops-spring-boot-starter makes the {@code cancer}
 * predictor bean from {@code application.properties}.
 *
 * <pre>
 * ./mvnw -q -pl samples/spring-boot -am package exec:java -DskipTests
 * curl -s localhost:8080/predict -H 'Content-Type: application/json' -d '{"features":[...30...]}'
 * </pre>
 */
@SpringBootApplication
public class PredictionService {

  /** Starts the service; fills an empty registry with the breast-cancer models first. */
  public static void main(String[] args) throws IOException {
    String registry = System.getenv().getOrDefault("MLOPS_REGISTRY", "target/registry");
    seedIfEmpty(Path.of(registry));
    SpringApplication.run(PredictionService.class, args);
  }

  /**
   * Registers cancer v1 and v2 with {@code production -> v1}, when the directory holds no registry
   * yet.
   */
  static void seedIfEmpty(Path registry) throws IOException {
    try (Mlops mlops = Mlops.builder().localRegistry(registry).build()) {
      if (mlops.registry().models().contains("cancer")) {
        return;
      }
      Path files = Files.createTempDirectory("mlops-sample-models-");
      AuditInfo audit = AuditInfo.by("sample", "first start");
      for (String file : new String[] {TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2}) {
        mlops
            .registry()
            .register(
                Registration.builder("cancer", ArtifactSource.file(TestModels.copy(file, files)))
                    .build(),
                audit);
      }
      mlops.registry().setAlias("cancer", "production", 1, audit);
    }
  }
}
