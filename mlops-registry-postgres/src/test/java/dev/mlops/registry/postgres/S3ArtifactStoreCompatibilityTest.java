package dev.mlops.registry.postgres;

import dev.mlops.test.ArtifactStoreCompatibilityKit;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The S3 artifact store against the kit, on a real S3 API (s3proxy in this JVM), each test in a
 * fresh bucket. Another instance gets a new cache directory, so what it reads comes from the
 * bucket. Parts of 5 MiB (S3's least), so that the kit's 16 MiB files go up in parts.
 */
class S3ArtifactStoreCompatibilityTest extends ArtifactStoreCompatibilityKit<S3ArtifactStore> {

  private final Map<S3ArtifactStore, String> buckets = new IdentityHashMap<>();

  @Override
  protected S3ArtifactStore createStore() {
    return open(TestS3.newBucket());
  }

  @Override
  protected S3ArtifactStore openAnother(S3ArtifactStore store) {
    return open(buckets.get(store));
  }

  private S3ArtifactStore open(String bucket) {
    S3ArtifactStore store =
        S3ArtifactStore.builder(TestS3.client(), bucket)
            .prefix("fleet/a")
            .cache(scratchDirectory())
            .partBytes(S3ArtifactStore.MIN_PART_BYTES)
            .build();
    buckets.put(store, bucket);
    return store;
  }
}
