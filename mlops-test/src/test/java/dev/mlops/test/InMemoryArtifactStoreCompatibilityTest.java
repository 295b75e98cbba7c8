package dev.mlops.test;

/** The reference in-memory artifact store passes the whole kit. */
class InMemoryArtifactStoreCompatibilityTest
    extends ArtifactStoreCompatibilityKit<InMemoryArtifactStore> {

  @Override
  protected InMemoryArtifactStore createStore() {
    return InMemoryArtifactStore.create(scratchDirectory());
  }

  @Override
  protected InMemoryArtifactStore openAnother(InMemoryArtifactStore store) {
    return store.openAnother();
  }
}
