package dev.mlops.registry.postgres;

import dev.mlops.api.spi.ModelStore;
import dev.mlops.test.ModelStoreCompatibilityKit;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The PostgreSQL store against the kit, on a real server, each test on a fresh database, child
 * processes included (they connect to the same database). Instances share the feed through LISTEN,
 * and a lost connection is the listener's backend terminated by {@code pg_terminate_backend}.
 */
class PostgresModelStoreCompatibilityTest extends ModelStoreCompatibilityKit<PostgresModelStore> {

  private final Map<ModelStore, String> urls = new IdentityHashMap<>();

  /** Opens the store in a child JVM on the database at a JDBC URL. */
  public static final class PostgresStoreFactory implements StoreFactory {
    /** For the child JVM. */
    public PostgresStoreFactory() {}

    @Override
    public ModelStore open(String location) {
      return PostgresModelStore.builder(TestDatabases.dataSource(location)).build();
    }
  }

  @Override
  protected PostgresModelStore createStore() {
    return open(TestDatabases.newDatabase("kit"));
  }

  @Override
  protected PostgresModelStore openAnother(PostgresModelStore store) {
    return open(urls.get(store));
  }

  private PostgresModelStore open(String url) {
    PostgresModelStore store = PostgresModelStore.builder(TestDatabases.dataSource(url)).build();
    urls.put(store, url);
    return store;
  }

  @Override
  protected boolean instancesInOneJvmShareTheFeed() {
    return true;
  }

  @Override
  protected Optional<Runnable> loseConnection(PostgresModelStore store) {
    String url = urls.get(store);
    return Optional.of(
        () -> {
          int pid = store.listenerBackendPid();
          if (pid == 0) {
            throw new IllegalStateException("the store's listener is not connected");
          }
          TestDatabases.terminate(url, pid);
        });
  }

  @Override
  protected Optional<ChildProcessStore> childProcessStore(PostgresModelStore store) {
    return Optional.of(new ChildProcessStore(PostgresStoreFactory.class, urls.get(store)));
  }
}
