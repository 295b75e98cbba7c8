package dev.mlops.test;

/** The reference in-memory store passes the whole kit; it cannot be shared by processes. */
class InMemoryModelStoreCompatibilityTest extends ModelStoreCompatibilityKit<InMemoryModelStore> {

  @Override
  protected InMemoryModelStore createStore() {
    return InMemoryModelStore.create();
  }

  @Override
  protected InMemoryModelStore openAnother(InMemoryModelStore store) {
    return store.openAnother();
  }

  @Override
  protected boolean instancesInOneJvmShareTheFeed() {
    return true;
  }
}
