package dev.mlops.registry.postgres;

import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ClosedException;
import dev.mlops.api.ConflictException;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.RegistryException;
import dev.mlops.api.VersionStatus;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.FeedStatus;
import dev.mlops.api.spi.ModelStore;
import dev.mlops.api.spi.NewVersion;
import dev.mlops.api.spi.StoreListener;
import dev.mlops.api.spi.StoredRollout;
import dev.mlops.runtime.registry.Json;
import dev.mlops.runtime.registry.Records;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ModelStore} on PostgreSQL, over any {@link DataSource} (a pool such as HikariCP, or
 * pgjdbc's own): the store a fleet of instances shares.
 *
 * <pre>{@code
 * PostgresModelStore store = PostgresModelStore.builder(dataSource).build();
 * ModelRegistry registry = GovernedRegistry.builder(() -> store, artifacts).build();
 * }</pre>
 *
 * <p><b>Schema.</b> {@link Builder#build()} creates the schema in an empty database, or brings an
 * older one up to date, in one transaction under an advisory lock, so instances starting at once
 * migrate once; a schema newer than this code is refused with a {@link RegistryException}. The
 * tables live in the connection's current schema ({@code search_path}).
 *
 * <p><b>What it guarantees.</b> Every change is one transaction together with its audit entry, so
 * the entry is durable exactly when the change commits, and a connection that dies mid-change
 * leaves nothing (the server rolls the transaction back). Version numbers are gap-free and unique
 * across every instance: the registering transaction bumps the model's counter under its row lock,
 * which also orders concurrent registrations, and a rolled-back registration gives its number back.
 * An alias moves by compare-and-set on its row ({@code UPDATE ... WHERE version = expected}, or
 * {@code INSERT ... ON CONFLICT DO NOTHING}-style for a new one), reading the row count; the target
 * is then checked ready under a share lock, which archiving and deleting wait for. A rollout record
 * moves the same way on its own row in {@code rollouts} ({@code UPDATE ... WHERE revision =
 * expected}, or {@code INSERT ... ON CONFLICT DO NOTHING} for an alias's first). Each committed
 * change also sends a small {@code pg_notify} on channel {@value #CHANNEL} (model, action, and the
 * alias and revision or the version), delivered by PostgreSQL exactly when the transaction commits.
 * The audit log comes back in commit order: writers take one transaction-scoped advisory lock just
 * before inserting their entry, so entries are numbered in the order their transactions commit
 * (changes serialise only for that last step).
 *
 * <p><b>The change feed.</b> Listeners receive each committed change once, in commit order, after
 * it is visible to reads, whichever instance or process committed it: the feed reads the audit log
 * from where it stands and delivers what it finds. It does so after each commit through this
 * instance, and whenever a notification arrives on a dedicated connection that LISTENs on {@value
 * #CHANNEL} (see {@link Builder#listen}). A notification is only a wake-up: the tables are the
 * truth, so a notification repeated, merged or lost while disconnected loses nothing. After every
 * (re)connect, and every {@linkplain Builder#resyncInterval resync interval}, listeners are asked
 * to {@linkplain StoreListener#resync() resync}. When the channel is quiet for a {@linkplain
 * Builder#heartbeat heartbeat}, the connection must answer {@code isValid} within {@linkplain
 * Builder#heartbeatTimeout its timeout}; a dead or black-holed one is replaced, with backoff and
 * jitter. {@link #feedStatus()} says whether it is connected, since when, and how often it
 * reconnected. Entries of {@link #appendAudit} are not delivered.
 *
 * <p><b>Failures.</b> Every database failure becomes a {@link RegistryException} naming what was
 * being done and the SQLSTATE; the change is rolled back. When the commit itself fails, its outcome
 * is unknown and the message says so. Conflicts and missing versions are {@link ConflictException}
 * and {@link ModelNotFoundException} as the SPI says.
 *
 * <p>Thread-safe. {@code insertVersion}'s {@code make} runs inside the registering transaction,
 * holding the model's row lock: a slow {@code make} holds up that model's other registrations. The
 * store borrows one connection per call and does not own the data source: {@link #close()} stops
 * its listeners and makes its methods throw {@link ClosedException}, and leaves the data source
 * open. {@code close()} is idempotent.
 */
public final class PostgresModelStore implements ModelStore {

  /** The channel every committed change notifies. */
  public static final String CHANNEL = "mlops_registry";

  private static final Logger LOG = LoggerFactory.getLogger(PostgresModelStore.class);

  /** Key of the advisory lock that orders audit entries ("mlops-au" in ASCII). */
  private static final long AUDIT_LOCK_KEY = 0x6d6c6f70732d6175L;

  /** The default of {@link Builder#heartbeat}. */
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(5);

  /** The default of {@link Builder#heartbeatTimeout}. */
  public static final Duration DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofSeconds(2);

  /** The default of {@link Builder#resyncInterval}. */
  public static final Duration DEFAULT_RESYNC_INTERVAL = Duration.ofMinutes(5);

  private final DataSource dataSource;
  private final Feed feed = new Feed();
  private volatile FeedListener listener;
  private AutoCloseable closing;
  private volatile boolean closed;

  private PostgresModelStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Starts a store on {@code dataSource}; {@link Builder#build()} migrates the schema.
   *
   * @param dataSource where connections come from; the store borrows one per call
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** Builds a {@link PostgresModelStore}; each option may be set once. Not thread-safe. */
  public static final class Builder {
    private final DataSource dataSource;
    private final java.util.Set<String> set = new java.util.HashSet<>();
    private boolean listen = true;
    private DataSource listenerDataSource;
    private Duration heartbeat = DEFAULT_HEARTBEAT;
    private Duration heartbeatTimeout = DEFAULT_HEARTBEAT_TIMEOUT;
    private Duration resyncInterval = DEFAULT_RESYNC_INTERVAL;
    private Duration backoffMin = Duration.ofMillis(250);
    private Duration backoffMax = Duration.ofSeconds(15);
    private Duration connectWait = Duration.ofSeconds(10);
    private ThreadFactory threadFactory;
    private Clock clock = Clock.systemUTC();
    private AutoCloseable closing;

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    private void once(String option) {
      if (!set.add(option)) {
        throw new IllegalStateException(option + ": already set");
      }
    }

    private static Duration positive(String option, Duration d) {
      Objects.requireNonNull(d, option);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(option + " must be positive, was " + d);
      }
      return d;
    }

    /**
     * Whether the store LISTENs for changes committed by other instances and processes, on a
     * dedicated connection (default: true). Without it, the feed delivers only what this instance
     * commits, and the changes of others when it next commits: enough for a tool that registers or
     * moves an alias and exits, not for a serving instance.
     */
    public Builder listen(boolean listen) {
      once("listen");
      this.listen = listen;
      return this;
    }

    /**
     * Where the listener's dedicated connection comes from (default: the store's data source). Give
     * a plain, non-pooled data source on a direct URL when the store's is a pool (a pool's maximum
     * lifetime would retire the listening connection) or goes through PgBouncer in transaction or
     * statement pooling, where LISTEN does not work. The listener borrows one connection and keeps
     * it until it fails or the store closes.
     */
    public Builder listenerDataSource(DataSource listenerDataSource) {
      once("listenerDataSource");
      this.listenerDataSource = Objects.requireNonNull(listenerDataSource, "listenerDataSource");
      return this;
    }

    /**
     * How long the channel may be quiet before the listener checks its connection (default: 5 s). A
     * dead or black-holed connection is detected within this plus {@link #heartbeatTimeout}.
     */
    public Builder heartbeat(Duration heartbeat) {
      once("heartbeat");
      this.heartbeat = positive("heartbeat", heartbeat);
      return this;
    }

    /**
     * How long the connection has to answer a heartbeat, in whole seconds, at least 1 (default: 2
     * s; JDBC's {@code isValid} counts in seconds).
     */
    public Builder heartbeatTimeout(Duration timeout) {
      once("heartbeatTimeout");
      positive("heartbeatTimeout", timeout);
      if (timeout.toMillis() % 1000 != 0) {
        throw new IllegalArgumentException(
            "heartbeatTimeout must be a whole number of seconds, was " + timeout);
      }
      this.heartbeatTimeout = timeout;
      return this;
    }

    /**
     * How often listeners are asked to resync even though the connection stayed up (default: 5
     * min): a safety net, since notifications are only wake-ups and the tables the truth.
     */
    public Builder resyncInterval(Duration interval) {
      once("resyncInterval");
      this.resyncInterval = positive("resyncInterval", interval);
      return this;
    }

    /**
     * The wait before reconnecting, doubled after each failed attempt from {@code min} up to {@code
     * max}, with up to half again of random jitter so a fleet does not reconnect at once (default:
     * 250 ms to 15 s).
     */
    public Builder reconnectBackoff(Duration min, Duration max) {
      once("reconnectBackoff");
      positive("reconnectBackoff min", min);
      positive("reconnectBackoff max", max);
      if (max.compareTo(min) < 0) {
        throw new IllegalArgumentException(
            "reconnectBackoff max (" + max + ") must not be below min (" + min + ")");
      }
      this.backoffMin = min;
      this.backoffMax = max;
      return this;
    }

    /**
     * How long {@link #build()} waits for the listener's first connection (default: 10 s). If it
     * cannot connect by then, the store is built anyway and the listener keeps trying; {@link
     * PostgresModelStore#feedStatus()} tells.
     */
    public Builder connectWait(Duration wait) {
      once("connectWait");
      this.connectWait = positive("connectWait", wait);
      return this;
    }

    /**
     * Makes the listener's thread (default: one daemon platform thread named {@value
     * FeedListener#APPLICATION_NAME}). The thread runs until the store closes.
     */
    public Builder threadFactory(ThreadFactory threadFactory) {
      once("threadFactory");
      this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
      return this;
    }

    /**
     * Something the store closes after itself, such as a pool made only for it (default: none; the
     * store never closes its data source on its own).
     */
    public Builder closing(AutoCloseable resource) {
      once("closing");
      this.closing = Objects.requireNonNull(resource, "resource");
      return this;
    }

    /** The clock of the feed status's times (default: the system clock in UTC). */
    public Builder clock(Clock clock) {
      once("clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Creates or migrates the schema, opens the store and, unless {@link #listen} is off, starts
     * its listener and waits up to {@link #connectWait} for it to LISTEN.
     *
     * @throws RegistryException if the database cannot be reached, a migration fails (nothing is
     *     applied then), or the schema is newer than this code
     */
    public PostgresModelStore build() {
      try (Connection c = dataSource.getConnection()) {
        Migrations.migrate(c, Migrations.LATEST, Migrations.SCRIPTS);
      } catch (SQLException | RuntimeException e) {
        if (closing != null) {
          try {
            closing.close();
          } catch (Exception suppressed) {
            e.addSuppressed(suppressed);
          }
        }
        if (e instanceof SQLException sql) {
          throw failure("create or migrate the registry schema", sql, Outcome.ROLLED_BACK);
        }
        throw (RuntimeException) e;
      }
      PostgresModelStore store = new PostgresModelStore(dataSource);
      store.closing = closing;
      if (listen) {
        store.startListener(this);
      }
      return store;
    }
  }

  // ---------------------------------------------------------------- reads

  @Override
  public List<String> models() {
    return read(
        "list models",
        c -> {
          List<String> out = new ArrayList<>();
          try (PreparedStatement p = c.prepareStatement("SELECT name FROM models");
              ResultSet r = p.executeQuery()) {
            while (r.next()) {
              out.add(r.getString(1));
            }
          }
          Collections.sort(out);
          return Collections.unmodifiableList(out);
        });
  }

  @Override
  public List<ModelVersion> versions(String model) {
    ModelRef.checkName(model);
    return read(
        "list the versions of model '" + model + "'",
        c -> {
          List<ModelVersion> out = new ArrayList<>();
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT status, record FROM versions WHERE model = ? ORDER BY version")) {
            p.setString(1, model);
            try (ResultSet r = p.executeQuery()) {
              while (r.next()) {
                out.add(versionOf(r.getString(1), r.getString(2)));
              }
            }
          }
          return Collections.unmodifiableList(out);
        });
  }

  @Override
  public Optional<ModelVersion> version(String model, long number) {
    ModelRef.checkName(model);
    return read(
        "read models:/" + model + "/" + number,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT status, record FROM versions WHERE model = ? AND version = ?")) {
            p.setString(1, model);
            p.setLong(2, number);
            try (ResultSet r = p.executeQuery()) {
              return r.next()
                  ? Optional.of(versionOf(r.getString(1), r.getString(2)))
                  : Optional.<ModelVersion>empty();
            }
          }
        });
  }

  private static ModelVersion versionOf(String status, String record) {
    ModelVersion v = Records.versionFromJson(record);
    VersionStatus s = VersionStatus.valueOf(status);
    return v.status() == s ? v : v.withStatus(s);
  }

  @Override
  public Map<String, AliasTarget> aliases(String model) {
    ModelRef.checkName(model);
    return read(
        "read the aliases of model '" + model + "'",
        c -> {
          Map<String, AliasTarget> out = new TreeMap<>();
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT alias, version, revision FROM aliases"
                      + " WHERE model = ? AND version IS NOT NULL")) {
            p.setString(1, model);
            try (ResultSet r = p.executeQuery()) {
              while (r.next()) {
                out.put(r.getString(1), new AliasTarget(r.getLong(2), r.getLong(3)));
              }
            }
          }
          return Collections.unmodifiableMap(out);
        });
  }

  @Override
  public Map<String, StoredRollout> rollouts(String model) {
    ModelRef.checkName(model);
    return read(
        "read the rollouts of model '" + model + "'",
        c -> {
          Map<String, StoredRollout> out = new TreeMap<>();
          try (PreparedStatement p =
              c.prepareStatement("SELECT alias, record, revision FROM rollouts WHERE model = ?")) {
            p.setString(1, model);
            try (ResultSet r = p.executeQuery()) {
              while (r.next()) {
                out.put(r.getString(1), new StoredRollout(r.getString(2), r.getLong(3)));
              }
            }
          }
          return Collections.unmodifiableMap(out);
        });
  }

  @Override
  public Optional<byte[]> file(String model, long version, String name) {
    Objects.requireNonNull(name, "name");
    return read(
        "read side file " + name + " of models:/" + model + "/" + version,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT content FROM version_files WHERE model = ? AND version = ? AND name = ?")) {
            p.setString(1, model);
            p.setLong(2, version);
            p.setString(3, name);
            try (ResultSet r = p.executeQuery()) {
              return r.next() ? Optional.of(r.getBytes(1)) : Optional.<byte[]>empty();
            }
          }
        });
  }

  @Override
  public List<AuditEntry> audit(AuditQuery query) {
    Objects.requireNonNull(query, "query");
    return read(
        "read the audit log",
        c -> {
          // The indexed criteria narrow the rows in SQL; the query itself decides the rest.
          StringBuilder sql = new StringBuilder("SELECT entry FROM audit WHERE true");
          List<String> args = new ArrayList<>();
          query
              .model()
              .ifPresent(
                  m -> {
                    sql.append(" AND model = ?");
                    args.add(m);
                  });
          query
              .actor()
              .ifPresent(
                  a -> {
                    sql.append(" AND actor = ?");
                    args.add(a);
                  });
          if (query.actions().size() < AuditAction.values().length) {
            sql.append(" AND action IN (");
            String sep = "";
            for (AuditAction a : query.actions()) {
              sql.append(sep).append('?');
              args.add(a.name());
              sep = ", ";
            }
            sql.append(')');
          }
          sql.append(" ORDER BY id");
          List<AuditEntry> out = new ArrayList<>();
          try (PreparedStatement p = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
              p.setString(i + 1, args.get(i));
            }
            try (ResultSet r = p.executeQuery()) {
              while (r.next()) {
                AuditEntry e = Records.auditFromJson(r.getString(1));
                if (query.matches(e)) {
                  out.add(e);
                }
              }
            }
          }
          return Collections.unmodifiableList(out);
        });
  }

  // ---------------------------------------------------------------- changes

  @Override
  public ModelVersion insertVersion(String model, LongFunction<NewVersion> make) {
    ModelRef.checkName(model);
    Objects.requireNonNull(make, "make");
    return change(
        "register a version of model '" + model + "'",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("INSERT INTO models (name) VALUES (?) ON CONFLICT DO NOTHING")) {
            p.setString(1, model);
            p.executeUpdate();
          }
          long number;
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE models SET last_version = last_version + 1 WHERE name = ?"
                      + " RETURNING last_version")) {
            p.setString(1, model);
            try (ResultSet r = p.executeQuery()) {
              r.next();
              number = r.getLong(1);
            }
          }
          // make runs under the model's row lock; if it throws, the rollback gives the number back.
          NewVersion nv = Objects.requireNonNull(make.apply(number), "make returned null");
          ModelVersion v = nv.version();
          if (!v.name().equals(model) || v.version() != number) {
            throw new IllegalArgumentException(
                "insertVersion("
                    + model
                    + ") expected a record of models:/"
                    + model
                    + "/"
                    + number
                    + " but was given "
                    + v.ref());
          }
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO versions (model, version, status, record) VALUES (?, ?, ?, ?)")) {
            p.setString(1, model);
            p.setLong(2, number);
            p.setString(3, VersionStatus.READY.name());
            p.setString(4, Records.versionToJson(v));
            p.executeUpdate();
          }
          if (!nv.files().isEmpty()) {
            try (PreparedStatement p =
                c.prepareStatement(
                    "INSERT INTO version_files (model, version, name, content)"
                        + " VALUES (?, ?, ?, ?)")) {
              for (Map.Entry<String, byte[]> f : nv.files().entrySet()) {
                p.setString(1, model);
                p.setLong(2, number);
                p.setString(3, f.getKey());
                p.setBytes(4, f.getValue());
                p.addBatch();
              }
              p.executeBatch();
            }
          }
          record(c, nv.audit(), notice(model, nv.audit().action(), "version", number));
          return v;
        });
  }

  @Override
  public Optional<AliasTarget> compareAndSetAlias(
      String model, String alias, long expected, long target, AuditEntry entry) {
    ModelRef.checkName(model);
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(entry, "entry");
    if (expected < 0 || target < 0) {
      throw new IllegalArgumentException(
          "expected and target must be >= 0: " + expected + ", " + target);
    }
    if (expected == 0 && target == 0) {
      checkOpen();
      return Optional.empty(); // deleting an alias that does not exist: nothing to compare
    }
    String what =
        (target == 0 ? "delete alias " : "move alias ")
            + alias
            + " of model '"
            + model
            + "' from "
            + expected
            + (target == 0 ? "" : " to " + target);
    return change(
        what,
        c -> {
          long revision;
          if (expected == 0) {
            if (!modelExists(c, model)) {
              throw missingTarget(model, target);
            }
            // A new alias, or one deleted before (its row keeps the revision count going).
            try (PreparedStatement p =
                c.prepareStatement(
                    "INSERT INTO aliases (model, alias, version, revision) VALUES (?, ?, ?, 1)"
                        + " ON CONFLICT (model, alias) DO UPDATE"
                        + " SET version = EXCLUDED.version, revision = aliases.revision + 1"
                        + " WHERE aliases.version IS NULL RETURNING revision")) {
              p.setString(1, model);
              p.setString(2, alias);
              p.setLong(3, target);
              revision = returned(p);
            }
          } else {
            try (PreparedStatement p =
                c.prepareStatement(
                    "UPDATE aliases SET version = ?, revision = revision + 1"
                        + " WHERE model = ? AND alias = ? AND version IS NOT DISTINCT FROM ?"
                        + " RETURNING revision")) {
              if (target == 0) {
                p.setNull(1, java.sql.Types.BIGINT);
              } else {
                p.setLong(1, target);
              }
              p.setString(2, model);
              p.setString(3, alias);
              p.setLong(4, expected);
              revision = returned(p);
            }
          }
          if (revision == 0) {
            return Optional.<AliasTarget>empty(); // the alias is not at expected: nothing changed
          }
          if (target != 0) {
            requireReady(c, model, target);
          }
          Map<String, Object> notice = notice(model, entry.action(), "alias", alias);
          notice.put("revision", revision);
          record(c, entry, notice);
          return Optional.of(new AliasTarget(target, revision));
        },
        Optional::isPresent);
  }

  /**
   * Compare-and-set on the alias's row in {@code rollouts}, reading the row count: a first write
   * inserts with {@code ON CONFLICT DO NOTHING} (a concurrent first write waits for the other's
   * commit and then inserts nothing; a unique violation would abort the transaction), a later one
   * updates only at {@code expected}. A refused write records and notifies nothing.
   */
  @Override
  public OptionalLong compareAndSetRollout(
      String model, String alias, long expected, String record, AuditEntry entry) {
    ModelRef.checkName(model);
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(record, "record");
    Objects.requireNonNull(entry, "entry");
    if (expected < 0) {
      throw new IllegalArgumentException("expected must be >= 0: " + expected);
    }
    return change(
        "write the rollout of alias "
            + alias
            + " of model '"
            + model
            + "' from revision "
            + expected,
        c -> {
          // Rows of models are never deleted, so one found here stays for the insert's key.
          if (!modelExists(c, model)) {
            throw new ConflictException(
                "model '"
                    + model
                    + "' has no version; a rollout can only be written for a registered model");
          }
          long revision;
          if (expected == 0) {
            try (PreparedStatement p =
                c.prepareStatement(
                    "INSERT INTO rollouts (model, alias, record, revision) VALUES (?, ?, ?, 1)"
                        + " ON CONFLICT (model, alias) DO NOTHING RETURNING revision")) {
              p.setString(1, model);
              p.setString(2, alias);
              p.setString(3, record);
              revision = returned(p);
            }
          } else {
            try (PreparedStatement p =
                c.prepareStatement(
                    "UPDATE rollouts SET record = ?, revision = revision + 1"
                        + " WHERE model = ? AND alias = ? AND revision = ? RETURNING revision")) {
              p.setString(1, record);
              p.setString(2, model);
              p.setString(3, alias);
              p.setLong(4, expected);
              revision = returned(p);
            }
          }
          if (revision == 0) {
            return OptionalLong.empty(); // the rollout is not at expected: nothing changed
          }
          Map<String, Object> notice = notice(model, entry.action(), "alias", alias);
          notice.put("revision", revision);
          record(c, entry, notice);
          return OptionalLong.of(revision);
        },
        OptionalLong::isPresent);
  }

  /** The revision a statement returned, or 0 if it touched no row. */
  private static long returned(PreparedStatement p) throws SQLException {
    try (ResultSet r = p.executeQuery()) {
      return r.next() ? r.getLong(1) : 0;
    }
  }

  private static boolean modelExists(Connection c, String model) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM models WHERE name = ?")) {
      p.setString(1, model);
      try (ResultSet r = p.executeQuery()) {
        return r.next();
      }
    }
  }

  /**
   * Refuses a target that is not a ready version, holding a share lock on it until commit so that
   * it cannot be archived or deleted meanwhile.
   */
  private static void requireReady(Connection c, String model, long version) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT status FROM versions WHERE model = ? AND version = ? FOR SHARE")) {
      p.setString(1, model);
      p.setLong(2, version);
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          throw missingTarget(model, version);
        }
        if (!VersionStatus.READY.name().equals(r.getString(1))) {
          throw new ConflictException(
              "models:/"
                  + model
                  + "/"
                  + version
                  + " is "
                  + r.getString(1)
                  + "; only a READY version can take an alias");
        }
      }
    }
  }

  private static ConflictException missingTarget(String model, long version) {
    return new ConflictException(
        "models:/"
            + model
            + "/"
            + version
            + " does not exist; an alias can only point at a ready version");
  }

  @Override
  public boolean archive(String model, long version, AuditEntry entry) {
    Objects.requireNonNull(entry, "entry");
    return change(
        "archive models:/" + model + "/" + version,
        c -> {
          String status = lockExisting(c, model, version, "archive");
          if (VersionStatus.ARCHIVED.name().equals(status)) {
            return false; // archived already: nothing changes, nothing is recorded
          }
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE versions SET status = ? WHERE model = ? AND version = ?")) {
            p.setString(1, VersionStatus.ARCHIVED.name());
            p.setString(2, model);
            p.setLong(3, version);
            p.executeUpdate();
          }
          record(c, entry, notice(model, entry.action(), "version", version));
          return true;
        },
        changed -> changed);
  }

  @Override
  public void delete(String model, long version, AuditEntry entry) {
    Objects.requireNonNull(entry, "entry");
    change(
        "delete models:/" + model + "/" + version,
        c -> {
          lockExisting(c, model, version, "delete");
          try (PreparedStatement p =
              c.prepareStatement("DELETE FROM versions WHERE model = ? AND version = ?")) {
            p.setString(1, model);
            p.setLong(2, version);
            p.executeUpdate(); // its side files go with it (ON DELETE CASCADE)
          }
          record(c, entry, notice(model, entry.action(), "version", version));
          return null;
        });
  }

  /**
   * Locks a version's row and refuses it if missing or aliased; returns its status. Alias moves
   * take a share lock on their target, so one that is committing is seen here.
   */
  private static String lockExisting(Connection c, String model, long version, String what)
      throws SQLException {
    String status;
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT status FROM versions WHERE model = ? AND version = ? FOR UPDATE")) {
      p.setString(1, model);
      p.setLong(2, version);
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          throw new ModelNotFoundException("model '" + model + "' has no version " + version);
        }
        status = r.getString(1);
      }
    }
    List<String> pointing = new ArrayList<>();
    try (PreparedStatement p =
        c.prepareStatement("SELECT alias FROM aliases WHERE model = ? AND version = ?")) {
      p.setString(1, model);
      p.setLong(2, version);
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          pointing.add(r.getString(1));
        }
      }
    }
    if (!pointing.isEmpty()) {
      Collections.sort(pointing);
      throw new ConflictException(
          "cannot "
              + what
              + " models:/"
              + model
              + "/"
              + version
              + ": aliases "
              + pointing
              + " point at it; move or delete them first");
    }
    return status;
  }

  @Override
  public void appendAudit(AuditEntry entry) {
    Objects.requireNonNull(entry, "entry");
    change(
        "append a " + entry.action() + " entry to the audit log",
        c -> {
          record(c, entry, null);
          return null;
        },
        r -> false);
  }

  /** The notification payload: a few keys, never data (a payload must stay under 8000 bytes). */
  private static Map<String, Object> notice(
      String model, AuditAction action, String key, Object value) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", model);
    m.put("action", action.name());
    m.put(key, value);
    return m;
  }

  /**
   * Inserts {@code entry} into the audit log, last in its transaction, under the lock that numbers
   * entries in commit order; with a {@code notice}, the entry records a change and the transaction
   * notifies {@link #CHANNEL}.
   */
  private static void record(Connection c, AuditEntry entry, Map<String, Object> notice)
      throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
      p.setLong(1, AUDIT_LOCK_KEY);
      p.execute();
    }
    try (PreparedStatement p =
        c.prepareStatement(
            "INSERT INTO audit (model, action, actor, is_change, entry) VALUES (?, ?, ?, ?, ?)")) {
      p.setString(1, entry.model());
      p.setString(2, entry.action().name());
      p.setString(3, entry.actor());
      p.setBoolean(4, notice != null);
      p.setString(5, Records.auditToJson(entry));
      p.executeUpdate();
    }
    if (notice != null) {
      try (PreparedStatement p = c.prepareStatement("SELECT pg_notify(?, ?)")) {
        p.setString(1, CHANNEL);
        p.setString(2, Json.write(notice));
        p.execute();
      }
    }
  }

  // ---------------------------------------------------------------- transactions

  /** Work on a connection. */
  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** Whether a change's result says it committed a change (and the feed has something new). */
  private interface Changed<T> {
    boolean test(T result);
  }

  private <T> T read(String what, Work<T> work) {
    checkOpen();
    try (Connection c = dataSource.getConnection()) {
      return work.run(c);
    } catch (SQLException e) {
      throw failure(what, e, Outcome.READ);
    }
  }

  private <T> T change(String what, Work<T> work) {
    return change(what, work, r -> true);
  }

  /**
   * Runs {@code work} in one transaction and commits it; on any failure rolls back and rethrows
   * (SQL failures as {@link RegistryException}). After a commit that {@code changed}, delivers.
   */
  private <T> T change(String what, Work<T> work, Changed<T> changed) {
    checkOpen();
    T result;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        result = work.run(c);
      } catch (SQLException | RuntimeException | Error e) {
        rollback(c, e);
        throw e;
      }
      try {
        c.commit();
      } catch (SQLException e) {
        throw failure(what, e, Outcome.UNKNOWN);
      }
      restoreAutoCommit(c);
    } catch (SQLException e) {
      throw failure(what, e, Outcome.ROLLED_BACK);
    }
    if (changed.test(result)) {
      feed.catchUp();
    }
    return result;
  }

  private static void rollback(Connection c, Throwable cause) {
    try {
      c.rollback();
      restoreAutoCommit(c);
    } catch (SQLException e) {
      // The connection is gone; so is the transaction, which the server rolls back.
      cause.addSuppressed(e);
    }
  }

  /** Hands a pooled connection back as it was lent. */
  private static void restoreAutoCommit(Connection c) {
    try {
      c.setAutoCommit(true);
    } catch (SQLException e) {
      LOG.debug("cannot restore autocommit on a connection being returned: {}", e.toString());
    }
  }

  /** What a failure leaves: for {@link #failure}. */
  enum Outcome {
    READ(""),
    ROLLED_BACK("; nothing was changed"),
    UNKNOWN(
        "; the commit failed, so whether the change was made is unknown: read the state"
            + " again");

    final String text;

    Outcome(String text) {
      this.text = text;
    }
  }

  static RegistryException failure(String what, SQLException e, Outcome outcome) {
    return SqlFailures.of(what, e, outcome.text);
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException(
          "this PostgresModelStore is closed; build another on the data source");
    }
  }

  // ---------------------------------------------------------------- the feed

  @Override
  public AutoCloseable subscribe(StoreListener listener) {
    Objects.requireNonNull(listener, "listener");
    long after =
        read(
            "subscribe to the change feed",
            c -> {
              try (PreparedStatement p =
                      c.prepareStatement("SELECT coalesce(max(id), 0) FROM audit");
                  ResultSet r = p.executeQuery()) {
                r.next();
                return r.getLong(1);
              }
            });
    Subscription sub = new Subscription(listener, after);
    feed.subscriptions.add(sub);
    return () -> feed.subscriptions.remove(sub);
  }

  /** A listener and the id of the last audit entry committed before it subscribed. */
  private record Subscription(StoreListener listener, long after) {}

  /**
   * Delivers committed changes from the audit log, in id order, which is commit order. Each commit
   * asks for a catch-up; one thread at a time reads and delivers, and a request made while it does
   * makes it read again, so no committed change is left behind.
   */
  private final class Feed {
    final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    final ReentrantLock delivering = new ReentrantLock();
    final AtomicLong requests = new AtomicLong();
    volatile long handled;

    /** The last read of the audit log failed: the listener's next heartbeat reads it again. */
    volatile boolean stale;

    /** The id of the last entry read; guarded by {@link #delivering}. */
    long cursor;

    /**
     * Asks every listener to resync, then delivers what committed meanwhile (nothing is lost while
     * disconnected: the audit log holds every change, and the cursor says where delivery stands).
     */
    void resync() {
      for (Subscription s : subscriptions) {
        if (closed) {
          return;
        }
        try {
          s.listener().resync();
        } catch (RuntimeException e) {
          LOG.warn("store listener {} failed to resync: {}", s.listener(), e.toString(), e);
        }
      }
      catchUp();
    }

    void catchUp() {
      requests.incrementAndGet();
      if (delivering.isHeldByCurrentThread()) {
        return; // a listener changed the store: the loop below it reads again
      }
      while (requests.get() != handled && delivering.tryLock()) {
        try {
          long request = requests.get();
          deliver();
          handled = request;
        } finally {
          delivering.unlock();
        }
      }
    }

    private void deliver() {
      if (subscriptions.isEmpty() || closed) {
        return;
      }
      long from = cursor;
      long oldest = Long.MAX_VALUE;
      for (Subscription s : subscriptions) {
        oldest = Math.min(oldest, s.after());
      }
      from = Math.max(from, oldest);
      List<Long> ids = new ArrayList<>();
      List<AuditEntry> entries = new ArrayList<>();
      try (Connection c = dataSource.getConnection();
          PreparedStatement p =
              c.prepareStatement(
                  "SELECT id, entry FROM audit WHERE id > ? AND is_change ORDER BY id")) {
        p.setLong(1, from);
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            ids.add(r.getLong(1));
            entries.add(Records.auditFromJson(r.getString(2)));
          }
        }
      } catch (SQLException e) {
        // The entries stay in the table; the next catch-up reads them from the same cursor.
        stale = true;
        LOG.warn(
            "cannot read the audit log to deliver changes after id {}: {}; they will be delivered"
                + " after the next change or heartbeat",
            from,
            e.toString());
        return;
      }
      stale = false;
      for (int i = 0; i < entries.size(); i++) {
        long id = ids.get(i);
        for (Subscription s : subscriptions) {
          if (id > s.after() && !closed) {
            try {
              s.listener().changed(entries.get(i));
            } catch (RuntimeException e) {
              LOG.warn(
                  "store listener {} failed on {}: {}",
                  s.listener(),
                  entries.get(i),
                  e.toString(),
                  e);
            }
          }
        }
        cursor = id;
      }
    }
  }

  private void startListener(Builder b) {
    FeedListener l =
        new FeedListener(
            b.listenerDataSource != null ? b.listenerDataSource : dataSource,
            new FeedListener.Target() {
              @Override
              public void notified() {
                feed.catchUp();
              }

              @Override
              public void resync() {
                feed.resync();
              }

              @Override
              public void quiet() {
                if (feed.stale) {
                  feed.catchUp();
                }
              }
            },
            new FeedListener.Timings(
                b.heartbeat,
                (int) b.heartbeatTimeout.toSeconds(),
                b.resyncInterval,
                b.backoffMin,
                b.backoffMax),
            b.clock,
            b.threadFactory != null
                ? b.threadFactory
                : r -> {
                  Thread t = new Thread(r, FeedListener.APPLICATION_NAME);
                  t.setDaemon(true);
                  return t;
                });
    listener = l;
    l.start(b.connectWait);
  }

  /**
   * The listener's state: connected or not, since when, the last notification, reconnects and
   * resyncs; empty when the store was built without {@linkplain Builder#listen listening}.
   */
  @Override
  public Optional<FeedStatus> feedStatus() {
    FeedListener l = listener;
    return l == null ? Optional.empty() : Optional.of(l.status());
  }

  /** The backend PID of the listening connection, 0 when none: for tests that kill it. */
  int listenerBackendPid() {
    FeedListener l = listener;
    return l == null ? 0 : l.backendPid();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    feed.subscriptions.clear();
    FeedListener l = listener;
    if (l != null) {
      l.close();
    }
    if (closing != null) {
      try {
        closing.close();
      } catch (Exception e) {
        LOG.warn("closing {} after the store: {}", closing, e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return "PostgresModelStore[" + dataSource + "]";
  }
}
