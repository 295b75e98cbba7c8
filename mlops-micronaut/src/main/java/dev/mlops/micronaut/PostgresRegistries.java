package dev.mlops.micronaut;

import dev.mlops.registry.postgres.PostgresArtifactStore;
import dev.mlops.registry.postgres.PostgresModelStore;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;

/** Opens a fleet registry on the application's DataSource; loaded only for {@code postgresql:}. */
final class PostgresRegistries {

  private PostgresRegistries() {}

  static GovernedRegistry open(DataSource dataSource, RegistryProperties properties) {
    Path cache;
    try {
      cache =
          properties.cache().isPresent()
              ? Files.createDirectories(Path.of(properties.cache().get()))
              : Files.createTempDirectory("mlops-artifact-cache");
    } catch (IOException e) {
      throw new UncheckedIOException(
          "mlops.registry.cache: cannot create the artifact cache directory: " + e, e);
    }
    PostgresModelStore store =
        PostgresModelStore.builder(dataSource).listen(properties.listen()).build();
    PostgresArtifactStore artifacts;
    try {
      artifacts = PostgresArtifactStore.builder(dataSource).cache(cache).build();
    } catch (RuntimeException e) {
      MlopsFactory.closeQuietly(store);
      throw e;
    }
    return GovernedRegistry.builder(store, artifacts).build();
  }
}
