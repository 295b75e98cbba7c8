package dev.mlops.registry.postgres;

import dev.mlops.api.spi.FeedStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LISTENs on the registry's channel on a dedicated autocommit connection, and wakes the store's
 * feed: on every notification, and after every (re)connect with a resync. Tables are the source of
 * truth: a notification only says "read the audit log again", so a lost, repeated or merged
 * notification loses nothing.
 *
 * <p>A black-holed connection (no FIN, no RST) looks to {@code getNotifications} like a quiet
 * channel, so after each quiet {@code heartbeat} the connection must answer {@code isValid} within
 * the validation timeout; a dead one is closed and replaced, with exponential backoff and jitter
 * between attempts. A full resync also runs every {@code resyncInterval}, as a safety net.
 */
final class FeedListener implements AutoCloseable {

  /** The application name operators see in {@code pg_stat_activity}. */
  static final String APPLICATION_NAME = "mlops-registry-listener";

  private static final Logger LOG = LoggerFactory.getLogger(FeedListener.class);

  /** What the listener wakes. */
  interface Target {
    /** A notification arrived: deliver what committed. */
    void notified();

    /** The listener (re)connected, or the periodic resync is due: resync, then deliver. */
    void resync();

    /** The channel was quiet for a heartbeat and the connection answered. */
    void quiet();
  }

  /** The listener's timings. */
  record Timings(
      Duration heartbeat,
      int validationSeconds,
      Duration resyncInterval,
      Duration backoffMin,
      Duration backoffMax) {}

  private final DataSource connections;
  private final Target target;
  private final Timings timings;
  private final Clock clock;
  private final Thread thread;
  private final CountDownLatch firstAttempt = new CountDownLatch(1);
  private final AtomicLong reconnects = new AtomicLong();
  private final AtomicLong resyncs = new AtomicLong();

  private volatile boolean closed;
  private volatile Connection connection;
  private volatile int backendPid;
  private volatile boolean connected;
  private volatile Instant since;
  private volatile Instant lastNotification;
  private volatile Instant lastResync;
  private volatile String lastFailure;

  FeedListener(
      DataSource connections, Target target, Timings timings, Clock clock, ThreadFactory threads) {
    this.connections = connections;
    this.target = target;
    this.timings = timings;
    this.clock = clock;
    this.since = clock.instant();
    this.thread = threads.newThread(this::run);
    if (thread == null) {
      throw new IllegalStateException("the listener thread factory returned null");
    }
  }

  /** Starts listening, and waits up to {@code wait} for the first connection attempt to end. */
  void start(Duration wait) {
    thread.start();
    try {
      if (!firstAttempt.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn(
            "the registry listener has not connected within {} ms; it keeps trying in the"
                + " background",
            wait.toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    long backoff = timings.backoffMin().toMillis();
    boolean everConnected = false;
    while (!closed) {
      try {
        Connection c = connect();
        if (everConnected) {
          reconnects.incrementAndGet();
        }
        everConnected = true;
        backoff = timings.backoffMin().toMillis();
        listen(c);
      } catch (SQLException | RuntimeException e) {
        firstAttempt.countDown();
        boolean wasConnected = connected;
        connected = false;
        closeQuietly();
        if (closed) {
          break;
        }
        lastFailure = describe(e);
        since = clock.instant();
        LOG.warn(
            "the registry listener {}: {}; reconnecting in about {} ms",
            wasConnected ? "lost its connection" : "cannot connect",
            lastFailure,
            backoff);
        sleep(backoff + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
        backoff = Math.min(backoff * 2, timings.backoffMax().toMillis());
      }
    }
    closeQuietly();
  }

  private Connection connect() throws SQLException {
    Connection c = connections.getConnection();
    connection = c;
    if (closed) {
      throw new SQLException("the store is closed");
    }
    c.setAutoCommit(true);
    try {
      c.setClientInfo("ApplicationName", APPLICATION_NAME);
    } catch (java.sql.SQLClientInfoException e) {
      LOG.debug("cannot set the listener's application name: {}", e.toString());
    }
    try (Statement s = c.createStatement()) {
      // Autocommit: the LISTEN takes effect now, before the resync reads the tables.
      s.execute("LISTEN " + PostgresModelStore.CHANNEL);
    }
    PGConnection pg = c.unwrap(PGConnection.class);
    backendPid = pg.getBackendPID();
    return c;
  }

  private void listen(Connection c) throws SQLException {
    PGConnection pg = c.unwrap(PGConnection.class);
    connected = true;
    since = clock.instant();
    LOG.info(
        "the registry listener is listening on channel {} (backend {})",
        PostgresModelStore.CHANNEL,
        backendPid);
    resync();
    firstAttempt.countDown();
    long nextResync = System.nanoTime() + timings.resyncInterval().toNanos();
    int wait = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timings.heartbeat().toMillis()));
    while (!closed) {
      PGNotification[] got = pg.getNotifications(wait);
      if (closed) {
        return;
      }
      if (got != null && got.length > 0) {
        lastNotification = clock.instant();
        target.notified();
        continue;
      }
      // Quiet: a live connection answers; a black-holed one does not, and getNotifications alone
      // would never tell.
      if (!c.isValid(timings.validationSeconds())) {
        throw new SQLException(
            "the connection did not answer a heartbeat within "
                + timings.validationSeconds()
                + " s",
            "08006");
      }
      target.quiet();
      if (System.nanoTime() - nextResync >= 0) {
        resync();
        nextResync = System.nanoTime() + timings.resyncInterval().toNanos();
      }
    }
  }

  private void resync() {
    resyncs.incrementAndGet();
    lastResync = clock.instant();
    target.resync();
  }

  private static String describe(Exception e) {
    String state = e instanceof SQLException s && s.getSQLState() != null ? s.getSQLState() : null;
    return e.getMessage() + (state == null ? "" : " (SQLSTATE " + state + ")");
  }

  private void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      if (!closed) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void closeQuietly() {
    Connection c = connection;
    connection = null;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        LOG.debug("closing the listener connection: {}", e.toString());
      }
    }
  }

  /** The backend PID of the listening connection, or 0 when none is open. */
  int backendPid() {
    return connected ? backendPid : 0;
  }

  FeedStatus status() {
    return new FeedStatus(
        connected,
        since,
        Optional.ofNullable(lastNotification),
        Optional.ofNullable(lastResync),
        reconnects.get(),
        resyncs.get(),
        Optional.ofNullable(lastFailure));
  }

  /** Stops listening and waits briefly for the thread to end. */
  @Override
  public void close() {
    closed = true;
    closeQuietly(); // wakes a getNotifications blocked on the socket
    thread.interrupt(); // wakes a backoff sleep
    if (Thread.currentThread() == thread) {
      return; // a listener closed the store from a delivery: the loop ends when it returns
    }
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
