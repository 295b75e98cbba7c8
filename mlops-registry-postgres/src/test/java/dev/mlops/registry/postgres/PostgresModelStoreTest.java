package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ClosedException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.StoredRollout;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * What the PostgreSQL store adds to the kit's checks: failures mid-change, notifications, a first
 * rollout write that waits on another.
 */
class PostgresModelStoreTest {

  @Test
  void aConnectionKilledMidRegistrationLosesNothingAndGivesTheNumberBack() throws Exception {
    String url = TestDatabases.newDatabase("store");
    DataSource ds = TestDatabases.dataSource(url);
    try (PostgresModelStore store = PostgresModelStore.builder(ds).build()) {
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));

      assertThatThrownBy(
              () ->
                  store.insertVersion(
                      "m",
                      n -> {
                        // The registering transaction holds the model's row lock: kill its backend.
                        assertThat(terminateOthers(url)).as("backends terminated").isEqualTo(1);
                        return Samples.newVersion(
                            "m", n, Map.of("input-example.bin", new byte[1024]));
                      }))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("cannot register a version of model 'm' in PostgreSQL")
          .hasMessageContaining("SQLSTATE");

      assertThat(store.versions("m")).containsExactly(Samples.version("m", 1));
      assertThat(store.audit(AuditQuery.all())).containsExactly(Samples.registered("m", 1));
      assertThat(store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of())))
          .as("the next registration")
          .isEqualTo(Samples.version("m", 2));
    }
  }

  @Test
  void anAliasMoveKilledBeforeItsCommitChangesNothing() throws Exception {
    String url = TestDatabases.newDatabase("store");
    try (PostgresModelStore store =
        PostgresModelStore.builder(TestDatabases.dataSource(url)).build()) {
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));
      assertThat(store.compareAndSetAlias("m", "prod", 0, 1, move(0, 1)))
          .contains(new AliasTarget(1, 1));
      List<AuditEntry> audit = store.audit(AuditQuery.all());

      // The move's transaction holds the alias row; a second move from another connection waits
      // on it. Killing the waiting one's backend must leave the alias and the audit as they were.
      try (Connection holder = TestDatabases.dataSource(url).getConnection()) {
        holder.setAutoCommit(false);
        try (PreparedStatement p =
            holder.prepareStatement("SELECT 1 FROM aliases WHERE model = 'm' FOR UPDATE")) {
          p.executeQuery().close();
        }
        Thread killer =
            new Thread(
                () -> {
                  try {
                    awaitLockWait(url);
                    terminateWaiting(url);
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                });
        killer.start();
        assertThatThrownBy(() -> store.compareAndSetAlias("m", "prod", 1, 2, move(1, 2)))
            .isInstanceOf(RegistryException.class)
            .hasMessageContaining("cannot move alias prod of model 'm' from 1 to 2");
        killer.join();
        holder.rollback();
      }
      assertThat(store.aliases("m")).containsExactly(Map.entry("prod", new AliasTarget(1, 1)));
      assertThat(store.audit(AuditQuery.all())).isEqualTo(audit);
      assertThat(store.compareAndSetAlias("m", "prod", 1, 2, move(1, 2)))
          .contains(new AliasTarget(2, 2));
    }
  }

  @Test
  void eachCommittedChangeNotifiesItsKeysAndAFailedOneNothing() throws Exception {
    String url = TestDatabases.newDatabase("store");
    try (PostgresModelStore store =
            PostgresModelStore.builder(TestDatabases.dataSource(url)).build();
        Connection listener = TestDatabases.dataSource(url).getConnection()) {
      try (var s = listener.createStatement()) {
        s.execute("LISTEN " + PostgresModelStore.CHANNEL);
      }
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));
      store.compareAndSetAlias("m", "prod", 0, 1, move(0, 1));
      assertThat(store.compareAndSetAlias("m", "prod", 0, 1, move(0, 1))).isEmpty();
      assertThatThrownBy(() -> store.compareAndSetAlias("m", "prod", 1, 5, move(1, 5)))
          .isInstanceOf(dev.mlops.api.ConflictException.class);
      store.appendAudit(move(9, 9));
      store.compareAndSetAlias(
          "m",
          "prod",
          1,
          0,
          new AuditEntry(
              Instant.EPOCH,
              "kit",
              AuditAction.DELETE_ALIAS,
              "m",
              AuditDetails.aliasDeleted("prod", 1),
              ""));

      List<String> payloads = new ArrayList<>();
      org.postgresql.PGConnection pg = listener.unwrap(org.postgresql.PGConnection.class);
      while (payloads.size() < 3) {
        org.postgresql.PGNotification[] got = pg.getNotifications(10_000);
        if (got == null || got.length == 0) {
          break;
        }
        for (org.postgresql.PGNotification n : got) {
          payloads.add(n.getParameter());
        }
      }
      assertThat(payloads)
          .containsExactly(
              "{\"model\":\"m\",\"action\":\"REGISTER\",\"version\":1}",
              "{\"model\":\"m\",\"action\":\"SET_ALIAS\",\"alias\":\"prod\",\"revision\":1}",
              "{\"model\":\"m\",\"action\":\"DELETE_ALIAS\",\"alias\":\"prod\",\"revision\":2}");
    }
  }

  @Test
  void eachCommittedRolloutWriteNotifiesItsAliasAndRevisionAndARefusedOneNothing()
      throws Exception {
    String url = TestDatabases.newDatabase("store");
    try (PostgresModelStore store =
            PostgresModelStore.builder(TestDatabases.dataSource(url)).build();
        Connection listener = TestDatabases.dataSource(url).getConnection()) {
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));
      try (var s = listener.createStatement()) {
        s.execute("LISTEN " + PostgresModelStore.CHANNEL);
      }
      assertThat(store.compareAndSetRollout("m", "prod", 0, "{\"w\":1}", rollout("start")))
          .hasValue(1);
      assertThat(store.compareAndSetRollout("m", "prod", 0, "{\"w\":2}", rollout("start")))
          .as("a second first write")
          .isEmpty();
      assertThat(store.compareAndSetRollout("m", "prod", 2, "{\"w\":2}", rollout("weight")))
          .as("a write from a revision not reached")
          .isEmpty();
      assertThatThrownBy(
              () -> store.compareAndSetRollout("none", "prod", 0, "{}", rollout("start")))
          .isInstanceOf(dev.mlops.api.ConflictException.class);
      assertThat(store.compareAndSetRollout("m", "prod", 1, "{\"w\":3}", rollout("weight")))
          .hasValue(2);

      assertThat(notifications(listener, 2))
          .containsExactly(
              "{\"model\":\"m\",\"action\":\"START_ROLLOUT\",\"alias\":\"prod\",\"revision\":1}",
              "{\"model\":\"m\",\"action\":\"UPDATE_ROLLOUT\",\"alias\":\"prod\",\"revision\":2}");
      assertThat(store.rollouts("m"))
          .containsExactly(Map.entry("prod", new StoredRollout("{\"w\":3}", 2)));
    }
  }

  @Test
  void aFirstRolloutWriteWaitingOnAnotherUncommittedOneIsRefusedWithoutAnError() throws Exception {
    String url = TestDatabases.newDatabase("store");
    try (PostgresModelStore store =
        PostgresModelStore.builder(TestDatabases.dataSource(url)).build()) {
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));
      List<AuditEntry> audit = store.audit(AuditQuery.all());
      try (Connection holder = TestDatabases.dataSource(url).getConnection()) {
        holder.setAutoCommit(false);
        try (PreparedStatement p =
            holder.prepareStatement(
                "INSERT INTO rollouts (model, alias, record, revision)"
                    + " VALUES ('m', 'prod', 'theirs', 1)")) {
          p.executeUpdate();
        }
        java.util.concurrent.CompletableFuture<java.util.OptionalLong> mine =
            java.util.concurrent.CompletableFuture.supplyAsync(
                () -> store.compareAndSetRollout("m", "prod", 0, "mine", rollout("start")));
        awaitLockWait(url);
        holder.commit();
        assertThat(mine.get(60, java.util.concurrent.TimeUnit.SECONDS))
            .as("the write that waited on the other's row")
            .isEmpty();
      }
      assertThat(store.rollouts("m"))
          .containsExactly(Map.entry("prod", new StoredRollout("theirs", 1)));
      assertThat(store.audit(AuditQuery.all())).isEqualTo(audit);
    }
  }

  @Test
  void aRolloutWriteKilledBeforeItsCommitChangesNothing() throws Exception {
    String url = TestDatabases.newDatabase("store");
    try (PostgresModelStore store =
        PostgresModelStore.builder(TestDatabases.dataSource(url)).build()) {
      store.insertVersion("m", n -> Samples.newVersion("m", n, Map.of()));
      assertThat(store.compareAndSetRollout("m", "prod", 0, "one", rollout("start"))).hasValue(1);
      List<AuditEntry> audit = store.audit(AuditQuery.all());

      try (Connection holder = TestDatabases.dataSource(url).getConnection()) {
        holder.setAutoCommit(false);
        try (PreparedStatement p =
            holder.prepareStatement("SELECT 1 FROM rollouts WHERE model = 'm' FOR UPDATE")) {
          p.executeQuery().close();
        }
        Thread killer =
            new Thread(
                () -> {
                  try {
                    awaitLockWait(url);
                    terminateWaiting(url);
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                });
        killer.start();
        assertThatThrownBy(
                () -> store.compareAndSetRollout("m", "prod", 1, "two", rollout("weight")))
            .isInstanceOf(RegistryException.class)
            .hasMessageContaining("cannot write the rollout of alias prod of model 'm'");
        killer.join();
        holder.rollback();
      }
      assertThat(store.rollouts("m"))
          .containsExactly(Map.entry("prod", new StoredRollout("one", 1)));
      assertThat(store.audit(AuditQuery.all())).isEqualTo(audit);
      assertThat(store.compareAndSetRollout("m", "prod", 1, "two", rollout("weight"))).hasValue(2);
    }
  }

  private static AuditEntry rollout(String change) {
    return new AuditEntry(
        Instant.EPOCH,
        "kit",
        change.equals("start") ? AuditAction.START_ROLLOUT : AuditAction.UPDATE_ROLLOUT,
        "m",
        Map.of("alias", "prod", "change", change),
        "");
  }

  /** The payloads of up to {@code n} notifications, waiting up to 10 s for each batch. */
  private static List<String> notifications(Connection listener, int n) throws SQLException {
    List<String> payloads = new ArrayList<>();
    org.postgresql.PGConnection pg = listener.unwrap(org.postgresql.PGConnection.class);
    while (payloads.size() < n) {
      org.postgresql.PGNotification[] got = pg.getNotifications(10_000);
      if (got == null || got.length == 0) {
        break;
      }
      for (org.postgresql.PGNotification x : got) {
        payloads.add(x.getParameter());
      }
    }
    // A refused write would have notified before the last committed one: none may follow either.
    org.postgresql.PGNotification[] more = pg.getNotifications(200);
    if (more != null) {
      for (org.postgresql.PGNotification x : more) {
        payloads.add(x.getParameter());
      }
    }
    return payloads;
  }

  @Test
  void aClosedStoreRefusesCallsAndClosingTwiceIsHarmless() {
    PostgresModelStore store =
        PostgresModelStore.builder(TestDatabases.dataSource(TestDatabases.newDatabase("store")))
            .build();
    store.close();
    store.close();
    assertThatThrownBy(store::models).isInstanceOf(ClosedException.class);
  }

  @Test
  void anUnreachableDatabaseIsATypedFailure() {
    DataSource ds = TestDatabases.dataSource("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2");
    assertThatThrownBy(() -> PostgresModelStore.builder(ds).build())
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("cannot create or migrate the registry schema in PostgreSQL");
  }

  private static AuditEntry move(long from, long to) {
    return new AuditEntry(
        Instant.EPOCH,
        "kit",
        AuditAction.SET_ALIAS,
        "m",
        AuditDetails.aliasMoved("prod", from, to, false, List.of()),
        "");
  }

  /**
   * Terminates every other backend on the test's database but the store's listener; returns how
   * many.
   */
  private static int terminateOthers(String url) {
    try (Connection c = TestDatabases.dataSource(url).getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    + " AND application_name <> '"
                    + FeedListener.APPLICATION_NAME
                    + "'")) {
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getInt(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void awaitLockWait(String url) throws SQLException {
    try (Connection c = TestDatabases.dataSource(url).getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    + " AND wait_event_type = 'Lock'")) {
      for (int i = 0; i < 60_000; i++) {
        try (ResultSet r = p.executeQuery()) {
          r.next();
          if (r.getInt(1) > 0) {
            return;
          }
        }
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
      throw new IllegalStateException("no backend ever waited on a lock");
    }
  }

  private static void terminateWaiting(String url) throws SQLException {
    try (Connection c = TestDatabases.dataSource(url).getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND wait_event_type = 'Lock'")) {
      p.executeQuery().close();
    }
  }
}
