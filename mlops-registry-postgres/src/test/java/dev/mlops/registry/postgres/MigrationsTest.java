package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.StoredRollout;
import dev.mlops.runtime.registry.Records;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** The store's schema on a real PostgreSQL: created from empty, migrated once, refused if newer. */
class MigrationsTest {

  /** Every script, as {@code schema_version} lists it once the schema is current. */
  private static final List<String> ALL_VERSIONS =
      List.of("1 V1__registry.sql", "2 V2__artifacts.sql", "3 V3__rollouts.sql");

  @Test
  void anEmptyDatabaseGetsTheLatestSchema() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("mig"));
    try (PostgresModelStore store = PostgresModelStore.builder(ds).build()) {
      assertThat(store.models()).isEmpty();
    }
    assertThat(schemaVersions(ds)).containsExactlyElementsOf(ALL_VERSIONS);
    assertThat(tables(ds))
        .containsExactly(
            "aliases",
            "artifact_chunks",
            "artifact_files",
            "artifacts",
            "audit",
            "models",
            "rollouts",
            "schema_version",
            "version_files",
            "versions");
  }

  @Test
  void openingAnUpToDateSchemaAgainChangesNothingAndKeepsTheData() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("mig"));
    try (PostgresModelStore store = PostgresModelStore.builder(ds).build()) {
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));
    }
    for (int i = 0; i < 2; i++) {
      try (PostgresModelStore again = PostgresModelStore.builder(ds).build()) {
        assertThat(again.versions("m")).containsExactly(Samples.version("m", 1));
      }
    }
    try (Connection c = ds.getConnection()) {
      assertThat(Migrations.migrate(c, Migrations.LATEST, Migrations.SCRIPTS))
          .as("version found by a migration of an up-to-date schema")
          .isEqualTo(Migrations.LATEST);
    }
    assertThat(schemaVersions(ds)).containsExactlyElementsOf(ALL_VERSIONS);
  }

  @Test
  void anEmptyDatabaseGetsTheRolloutsTableWithItsChecks() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("mig"));
    try (PostgresModelStore store = PostgresModelStore.builder(ds).build()) {
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));
      assertThat(store.rollouts("m")).isEmpty();
      assertThat(store.compareAndSetRollout("m", "production", 0, "{}", rolloutStarted("m")))
          .hasValue(1);
      assertThat(store.rollouts("m"))
          .containsExactly(Map.entry("production", new StoredRollout("{}", 1)));
    }
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("INSERT INTO rollouts VALUES ('m', 'canary', '{}', 0)"))
          .as("a revision below 1")
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("rollouts_revision_check");
      assertThatThrownBy(
              () -> s.execute("INSERT INTO rollouts VALUES ('nobody', 'canary', '{}', 1)"))
          .as("a rollout of a model without a row")
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("rollouts_model_fkey");
    }
  }

  @Test
  void aSchemaAtVersion2WithDataGetsOnlyTheRolloutsTableAndKeepsItsData() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("mig"));
    try (Connection c = ds.getConnection()) {
      assertThat(Migrations.migrate(c, 2, Migrations.SCRIPTS.subList(0, 2)))
          .as("version found on an empty database")
          .isEqualTo(0);
      try (PreparedStatement p =
          c.prepareStatement(
              "INSERT INTO models (name, last_version) VALUES ('m', 1);"
                  + " INSERT INTO versions (model, version, status, record)"
                  + " VALUES ('m', 1, 'READY', ?);"
                  + " INSERT INTO aliases (model, alias, version, revision)"
                  + " VALUES ('m', 'production', 1, 4);"
                  + " INSERT INTO audit (model, action, actor, is_change, entry)"
                  + " VALUES ('m', 'REGISTER', 'test', true, ?)")) {
        p.setString(1, Records.versionToJson(Samples.version("m", 1)));
        p.setString(2, Records.auditToJson(Samples.registered("m", 1)));
        p.execute();
      }
    }
    assertThat(tables(ds)).contains("artifacts").doesNotContain("rollouts");

    try (Connection c = ds.getConnection()) {
      assertThat(Migrations.migrate(c, Migrations.LATEST, Migrations.SCRIPTS))
          .as("version found at version 2")
          .isEqualTo(2);
    }
    assertThat(schemaVersions(ds)).containsExactlyElementsOf(ALL_VERSIONS);
    assertThat(tables(ds)).contains("rollouts");
    try (PostgresModelStore store = PostgresModelStore.builder(ds).build()) {
      assertThat(store.versions("m")).containsExactly(Samples.version("m", 1));
      assertThat(store.aliases("m"))
          .containsExactly(Map.entry("production", new AliasTarget(1, 4)));
      assertThat(store.audit(AuditQuery.all())).containsExactly(Samples.registered("m", 1));
      assertThat(store.rollouts("m")).isEmpty();
      assertThat(store.compareAndSetRollout("m", "production", 0, "{}", rolloutStarted("m")))
          .hasValue(1);
      assertThat(store.rollouts("m"))
          .containsExactly(Map.entry("production", new StoredRollout("{}", 1)));
    }
  }

  private static AuditEntry rolloutStarted(String model) {
    return new AuditEntry(
        Instant.parse("2026-03-01T12:00:00Z"),
        "test",
        AuditAction.START_ROLLOUT,
        model,
        Map.of("alias", "production", "change", "start"),
        "");
  }

  @Test
  void aSchemaAtVersion1GetsOnlyTheLaterScriptsAndKeepsItsData() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("mig"));
    try (Connection c = ds.getConnection()) {
      assertThat(Migrations.migrate(c, 1, Migrations.SCRIPTS.subList(0, 1)))
          .as("version found on an empty database")
          .isEqualTo(0);
      try (Statement s = c.createStatement()) {
        s.execute("INSERT INTO models (name, last_version) VALUES ('m', 7)");
      }
    }
    assertThat(tables(ds)).doesNotContain("artifacts");

    try (Connection c = ds.getConnection()) {
      assertThat(Migrations.migrate(c, Migrations.LATEST, Migrations.SCRIPTS))
          .as("version found at version 1")
          .isEqualTo(1);
    }
    assertThat(schemaVersions(ds)).containsExactlyElementsOf(ALL_VERSIONS);
    assertThat(tables(ds)).contains("artifacts", "artifact_files", "artifact_chunks", "rollouts");
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT name, last_version FROM models")) {
      assertThat(r.next()).isTrue();
      assertThat(r.getString(1) + " " + r.getLong(2)).isEqualTo("m 7");
      assertThat(r.next()).isFalse();
    }
  }

  @Test
  void aSchemaAtTheLatestVersionGetsOnlyTheNextScriptAndKeepsItsData() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("mig"));
    try (PostgresModelStore store = PostgresModelStore.builder(ds).build()) {
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));
    }
    List<String> withNext = new ArrayList<>(Migrations.SCRIPTS);
    withNext.add("V4__test_only_note.sql");
    int next = Migrations.LATEST + 1;
    try (Connection c = ds.getConnection()) {
      assertThat(Migrations.migrate(c, next, withNext))
          .as("version found")
          .isEqualTo(Migrations.LATEST);
      assertThat(Migrations.migrate(c, next, withNext))
          .as("version found the second time")
          .isEqualTo(next);
    }
    assertThat(schemaVersions(ds))
        .containsExactly(
            "1 V1__registry.sql",
            "2 V2__artifacts.sql",
            "3 V3__rollouts.sql",
            "4 V4__test_only_note.sql");
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT name, last_version, note FROM models")) {
      assertThat(r.next()).isTrue();
      assertThat(r.getString(1) + " " + r.getLong(2) + " '" + r.getString(3) + "'")
          .isEqualTo("m 1 ''");
    }
  }

  @Test
  void aFailingScriptAppliesNothingNotEvenTheVersionTable() throws Exception {
    DataSource empty = TestDatabases.dataSource(TestDatabases.newDatabase("mig"));
    try (Connection c = empty.getConnection()) {
      assertThatThrownBy(() -> Migrations.migrate(c, 1, List.of("V4__test_only_note.sql")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining(
              "cannot apply migration V4__test_only_note.sql (schema version 0 to 1)")
          .hasMessageContaining("nothing was applied");
    }
    assertThat(tables(empty)).as("tables after the failed migration").isEmpty();
  }

  @Test
  void aSchemaNewerThanTheCodeIsRefused() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("mig"));
    PostgresModelStore.builder(ds).build().close();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO schema_version (version, script) VALUES (4, 'V4__from_the_future.sql')");
    }
    assertThatThrownBy(() -> PostgresModelStore.builder(ds).build())
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("schema in this database is at version 4")
        .hasMessageContaining("supports versions up to 3");
  }

  @Test
  void fourStoresStartingAtOnceOnAnEmptyDatabaseMigrateItOnce() throws Exception {
    String url = TestDatabases.newDatabase("mig");
    int stores = 4;
    CountDownLatch start = new CountDownLatch(1);
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    List<PostgresModelStore> opened = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < stores; i++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  start.await();
                  opened.add(PostgresModelStore.builder(TestDatabases.dataSource(url)).build());
                } catch (Throwable e) {
                  failures.add(e);
                }
              },
              "start-" + i);
      t.start();
      threads.add(t);
    }
    start.countDown();
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(60));
      assertThat(t.isAlive()).as("%s still running", t.getName()).isFalse();
    }
    assertThat(failures).as("failures of the concurrent starts").isEmpty();
    assertThat(opened).hasSize(stores);
    DataSource ds = TestDatabases.dataSource(url);
    assertThat(schemaVersions(ds)).containsExactlyElementsOf(ALL_VERSIONS);
    for (PostgresModelStore s : opened) {
      assertThat(s.audit(AuditQuery.all())).isEmpty();
      s.close();
    }
  }

  private static List<String> schemaVersions(DataSource ds) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery("SELECT version, script FROM schema_version ORDER BY version")) {
      while (r.next()) {
        out.add(r.getInt(1) + " " + r.getString(2));
      }
    }
    return out;
  }

  private static List<String> tables(DataSource ds) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    + " ORDER BY tablename")) {
      while (r.next()) {
        out.add(r.getString(1));
      }
    }
    return out;
  }
}
