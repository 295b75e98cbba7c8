package dev.mlops.spring.boot;

import dev.mlops.registry.postgres.PostgresArtifactStore;
import dev.mlops.registry.postgres.PostgresModelStore;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;

/** Opens the PostgreSQL registry on a DataSource; loaded only when mlops-registry-postgres is. */
final class FleetRegistry {

  private FleetRegistry() {}

  static GovernedRegistry open(DataSource dataSource, String artifactCache) {
    Path cache;
    try {
      cache =
          artifactCache != null
              ? Files.createDirectories(Path.of(artifactCache))
              : Files.createTempDirectory("mlops-artifact-cache-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the artifact cache directory", e);
    }
    PostgresModelStore store = PostgresModelStore.builder(dataSource).build();
    PostgresArtifactStore artifacts =
        PostgresArtifactStore.builder(dataSource).cache(cache).build();
    return GovernedRegistry.builder(store, artifacts).build();
  }
}
