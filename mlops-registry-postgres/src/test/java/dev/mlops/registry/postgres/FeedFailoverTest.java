package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.FeedStatus;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import dev.mlops.testmodels.TestModels;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An instance's listener against what breaks it: its backend terminated while an alias moves, a
 * move in a rolled-back transaction, a connection black-holed by a proxy. The instance is a runtime
 * on the registry's URI; the writer is another registry on the same database.
 */
class FeedFailoverTest {

  private static final Logger LOG = LoggerFactory.getLogger(FeedFailoverTest.class);
  private static final AuditInfo OPS = AuditInfo.by("ops", "failover test");
  private static final float[] ROW = new float[30];

  @TempDir Path tmp;

  private String base(String db) {
    return TestDatabases.server().getJdbcUrl("postgres", db).replace("jdbc:", "");
  }

  private GovernedRegistry writer(String db) {
    GovernedRegistry r =
        RegistryProvider.openUri(
            URI.create(base(db) + "&listen=false&cache=" + tmp.resolve("writer-cache")),
            OnnxRuntimeEngine.builder().build(),
            Clock.systemUTC());
    for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      r.register(
          Registration.builder(
                  "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve("src-" + file))))
              .build(),
          OPS);
    }
    r.setAlias("cancer", "production", 1, OPS);
    return r;
  }

  private static String db(String prefix) {
    String url = TestDatabases.newDatabase(prefix);
    return url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
  }

  private static long await(Duration limit, BooleanSupplier condition) {
    long start = System.nanoTime();
    long deadline = start + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not reached within " + limit);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    return System.nanoTime() - start;
  }

  private static PostgresModelStore storeOf(Mlops mlops) {
    return (PostgresModelStore) mlops.registry().store();
  }

  @Test
  void aTerminatedListenerListensAgainResyncsAndServesTheMoveMadeMeanwhile() throws Exception {
    String db = db("failover");
    try (GovernedRegistry writer = writer(db);
        Mlops instance =
            Mlops.builder()
                .registry(URI.create(base(db) + "&cache=" + tmp.resolve("instance-cache")))
                .build()) {
      Predictor<float[], float[]> p =
          instance.predictor("models:/cancer@production", Codecs.floatRow());
      assertThat(p.predict(ROW).version()).isEqualTo(1);
      PostgresModelStore store = storeOf(instance);
      FeedStatus before = store.feedStatus().orElseThrow();
      assertThat(before.connected()).isTrue();

      long moveStart = System.nanoTime();
      TestDatabases.terminate(
          TestDatabases.server().getJdbcUrl("postgres", db), store.listenerBackendPid());
      writer.setAlias("cancer", "production", 2, OPS); // committed while the listener is down
      long served = await(Duration.ofSeconds(5), () -> p.predict(ROW).version() == 2);

      FeedStatus after = store.feedStatus().orElseThrow();
      LOG.info(
          "after pg_terminate_backend: serving the new version {} ms after the move began; {}",
          (System.nanoTime() - moveStart) / 1e6,
          after);
      assertThat(after.connected()).isTrue();
      assertThat(after.reconnects()).isEqualTo(before.reconnects() + 1);
      assertThat(after.resyncs()).isEqualTo(before.resyncs() + 1);
      assertThat(after.lastFailure()).get().asString().contains("57P01");
      assertThat(served).isLessThan(TimeUnit.SECONDS.toNanos(5));
    }
  }

  @Test
  void anInstanceFollowingLatestServesAVersionRegisteredByAnotherProcessOfTheFleet()
      throws Exception {
    String db = db("latest");
    try (GovernedRegistry writer = writer(db);
        Mlops instance =
            Mlops.builder()
                .registry(URI.create(base(db) + "&cache=" + tmp.resolve("instance-cache")))
                .build()) {
      Predictor<float[], float[]> latest = instance.predictor("models:/cancer", Codecs.floatRow());
      assertThat(latest.predict(ROW).version()).isEqualTo(2);

      writer.register(
          Registration.builder(
                  "cancer",
                  ArtifactSource.file(
                      TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("v3.onnx"))))
              .build(),
          OPS);
      await(Duration.ofSeconds(10), () -> latest.predict(ROW).version() == 3);
      writer.archive("cancer", 3, OPS);
      await(Duration.ofSeconds(10), () -> latest.predict(ROW).version() == 2);
    }
  }

  @Test
  void aMoveInARolledBackTransactionIsNeverSeen() throws Exception {
    String db = db("rollback");
    String jdbc = TestDatabases.server().getJdbcUrl("postgres", db);
    try (GovernedRegistry writer = writer(db);
        Mlops instance =
            Mlops.builder()
                .registry(URI.create(base(db) + "&cache=" + tmp.resolve("instance-cache")))
                .build()) {
      List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
      instance.addListener(events::add);
      Predictor<float[], float[]> p =
          instance.predictor("models:/cancer@production", Codecs.floatRow());
      assertThat(p.predict(ROW).version()).isEqualTo(1);

      // What a move writes, notification included, in a transaction that rolls back.
      try (Connection c = TestDatabases.dataSource(jdbc).getConnection()) {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
          s.executeUpdate(
              "UPDATE aliases SET version = 2, revision = revision + 1"
                  + " WHERE model = 'cancer' AND alias = 'production'");
          s.execute(
              "SELECT pg_notify('"
                  + PostgresModelStore.CHANNEL
                  + "', '{\"model\":\"cancer\",\"action\":\"SET_ALIAS\",\"alias\":\"production\","
                  + "\"revision\":99}')");
        }
        c.rollback();
      }
      // Then a committed change of another model: notifications arrive in commit order, so once
      // it is delivered, a notification of the rolled-back move would have been too.
      writer.register(
          Registration.builder(
                  "other",
                  ArtifactSource.file(TestModels.copy(TestModels.TINY, tmp.resolve("tiny.onnx"))))
              .build(),
          OPS);
      await(
          Duration.ofSeconds(10),
          () ->
              events.stream()
                  .anyMatch(
                      e ->
                          e instanceof LifecycleEvent.VersionRegistered r
                              && r.model().equals("other")));

      assertThat(events)
          .noneMatch(e -> e instanceof LifecycleEvent.AliasMoved)
          .noneMatch(e -> e instanceof LifecycleEvent.VersionSwapped);
      assertThat(p.predict(ROW).version()).isEqualTo(1);
      assertThat(writer.aliases("cancer").get("production")).isEqualTo(1L);
    }
  }

  @Test
  void aBlackHoledListenerIsDetectedWithinHeartbeatPlusTimeoutAndRecovers() throws Exception {
    String db = db("blackhole");
    int port = TestDatabases.server().getPort();
    try (TcpProxy proxy = new TcpProxy(port);
        GovernedRegistry writer = writer(db);
        Mlops instance =
            Mlops.builder()
                .registry(
                    URI.create(
                        base(db)
                            + "&listener=127.0.0.1:"
                            + proxy.port()
                            + "&heartbeat=1s&heartbeatTimeout=1s&cache="
                            + tmp.resolve("instance-cache")))
                .build()) {
      Predictor<float[], float[]> p =
          instance.predictor("models:/cancer@production", Codecs.floatRow());
      PostgresModelStore store = storeOf(instance);
      assertThat(store.feedStatus().orElseThrow().connected()).isTrue();

      proxy.blackHole();
      long blackHoled = System.nanoTime();
      writer.setAlias("cancer", "production", 2, OPS); // its notification goes into the hole
      long detected =
          await(Duration.ofSeconds(30), () -> !store.feedStatus().orElseThrow().connected());
      long served = await(Duration.ofSeconds(30), () -> p.predict(ROW).version() == 2);
      FeedStatus after = store.feedStatus().orElseThrow();
      LOG.info(
          "black hole detected after {} ms (heartbeat 1 s + timeout 1 s), new version served {} ms"
              + " after the black hole; {}",
          detected / 1e6,
          (System.nanoTime() - blackHoled) / 1e6,
          after);
      assertThat(Duration.ofNanos(detected))
          .as("detection, for a heartbeat of 1 s and a timeout of 1 s")
          .isLessThan(Duration.ofSeconds(4));
      await(Duration.ofSeconds(30), () -> store.feedStatus().orElseThrow().connected());
      assertThat(store.feedStatus().orElseThrow().reconnects()).isEqualTo(1);
      assertThat(served).isPositive();
    }
  }

  @Test
  void anAliasMovedToAVersionWhoseArtifactIsMissingLeavesTheOldOneServingWithATypedEvent()
      throws Exception {
    String db = db("missing");
    try (GovernedRegistry writer = writer(db);
        Mlops instance =
            Mlops.builder()
                .registry(URI.create(base(db) + "&cache=" + tmp.resolve("instance-cache")))
                .build()) {
      List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
      instance.addListener(events::add);
      Predictor<float[], float[]> p =
          instance.predictor("models:/cancer@production", Codecs.floatRow());
      assertThat(p.predict(ROW).version()).isEqualTo(1);

      // Version 2's files are gone from the store behind the registry's back; the move is forced,
      // so no check stops it.
      writer.artifacts().delete(writer.versions("cancer").get(1).digest());
      writer.forceAlias("cancer", "production", 2, OPS);

      await(
          Duration.ofSeconds(30),
          () ->
              events.stream()
                  .anyMatch(
                      e -> e instanceof LifecycleEvent.ModelLoadFailed f && f.version() == 2));
      LifecycleEvent.ModelLoadFailed failed =
          events.stream()
              .filter(e -> e instanceof LifecycleEvent.ModelLoadFailed)
              .map(e -> (LifecycleEvent.ModelLoadFailed) e)
              .findFirst()
              .orElseThrow();
      LOG.info("the load of the missing version failed with: {}", failed.cause().toString());
      assertThat(causes(failed.cause()))
          .anyMatch(t -> t instanceof dev.mlops.api.IntegrityException);
      assertThat(p.predict(ROW).version()).as("the old version keeps serving").isEqualTo(1);
      assertThat(events).noneMatch(e -> e instanceof LifecycleEvent.VersionSwapped);
    }
  }

  private static List<Throwable> causes(Throwable t) {
    List<Throwable> out = new java.util.ArrayList<>();
    for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) {
      out.add(c);
    }
    return out;
  }
}
