package dev.mlops.samples.micronaut;

import io.micronaut.runtime.Micronaut;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The cancer service: a Micronaut application whose predictor, health and endpoint come from
 * mlops-micronaut and {@code application.properties}. Run with {@code ./mvnw -q -pl
 * samples/micronaut -am package exec:java -DskipTests}; it seeds a registry in {@code
 * target/models} with two versions of the classifier (production -> v1) when there is none.
 */
public final class Application {

  private Application() {}

  /** Seeds the registry if needed, then starts the service. */
  public static void main(String[] args) throws Exception {
    Path models = Path.of(System.getProperty("mlops.registry.url", "target/models"));
    if (!Files.isDirectory(models)) {
      DemoRegistry.seed(models, Files.createTempDirectory("cancer-models"));
    }
    Micronaut.build(args).mainClass(Application.class).start();
  }
}
