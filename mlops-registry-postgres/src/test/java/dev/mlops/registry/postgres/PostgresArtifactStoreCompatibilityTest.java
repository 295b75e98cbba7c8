package dev.mlops.registry.postgres;

import dev.mlops.test.ArtifactStoreCompatibilityKit;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The PostgreSQL artifact store against the kit, on a real server, each test on a fresh database.
 * Another instance gets a new cache directory, so what it reads comes from the database. Chunks of
 * 256 KiB, so that the kit's files span several chunks and end in a short one.
 */
class PostgresArtifactStoreCompatibilityTest
    extends ArtifactStoreCompatibilityKit<PostgresArtifactStore> {

  private final Map<PostgresArtifactStore, String> urls = new IdentityHashMap<>();

  @Override
  protected PostgresArtifactStore createStore() {
    return open(TestDatabases.newDatabase("artifacts"));
  }

  @Override
  protected PostgresArtifactStore openAnother(PostgresArtifactStore store) {
    return open(urls.get(store));
  }

  private PostgresArtifactStore open(String url) {
    PostgresArtifactStore store =
        PostgresArtifactStore.builder(TestDatabases.dataSource(url))
            .cache(scratchDirectory())
            .chunkBytes(256 * 1024)
            .build();
    urls.put(store, url);
    return store;
  }
}
