package dev.mlops.runtime;

import static dev.mlops.runtime.HotSwapFixtures.OPS;
import static dev.mlops.runtime.HotSwapFixtures.await;
import static dev.mlops.runtime.HotSwapFixtures.awaitServing;
import static dev.mlops.runtime.HotSwapFixtures.joinAll;
import static dev.mlops.runtime.HotSwapFixtures.register;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.Codecs;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.HotSwapFixtures.Events;
import dev.mlops.runtime.HotSwapFixtures.GatedCodec;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acceptance of hot swap (issue #3): callers never fail while versions change under them, calls in
 * flight finish on the version they started on, and every session is closed exactly once.
 */
class HotSwapAcceptanceIT {

  private static final Logger LOG = LoggerFactory.getLogger(HotSwapAcceptanceIT.class);
  private static final String PRODUCTION = "production";
  private static final ModelRef CANCER_PRODUCTION = ModelRef.parse("models:/cancer@production");
  private static final Duration JOIN = Duration.ofSeconds(60);

  @TempDir Path tmp;

  private Mlops runtime(Events events) {
    Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build();
    mlops.addListener(events);
    return mlops;
  }

  private void registerCancerV1V2(Mlops mlops) {
    register(mlops, "cancer", TestModels.BREAST_CANCER_V1, tmp);
    register(mlops, "cancer", TestModels.BREAST_CANCER_V2, tmp);
  }

  private static ModelVersion version(Mlops mlops, String model, long v) {
    return mlops.registry().get(ModelRef.parse("models:/" + model + "/" + v));
  }

  // ------------------------------------------------------------------------------------ (a)

  @Test
  void sixtyFourCallersForThirtySecondsWhileTheAliasFlipsEveryHalfSecondSeeNoFailure()
      throws Exception {
    int callers = 64;
    long runNanos = TimeUnit.SECONDS.toNanos(30);
    long flipEveryNanos = TimeUnit.MILLISECONDS.toNanos(500);
    TestSet test = TestModels.breastCancerTestSet();
    Events events = new Events();
    Mlops mlops = runtime(events);
    LongAdder[] perVersion = {new LongAdder(), new LongAdder(), new LongAdder()};
    LongAdder failed = new LongAdder();
    LongAdder wrongVersion = new LongAdder();
    LongAdder wrongValue = new LongAdder();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    int flips = 0;
    try (mlops) {
      registerCancerV1V2(mlops);
      // Rows on which the two versions answer differently, with each version's exact answer:
      // a result tagged v1 must carry v1's numbers, so the tag cannot lie about the session used.
      List<float[]> rows = new ArrayList<>();
      List<float[][]> expected = new ArrayList<>();
      try (Predictor<float[], float[]> p1 = mlops.predictor("models:/cancer/1", Codecs.floatRow());
          Predictor<float[], float[]> p2 = mlops.predictor("models:/cancer/2", Codecs.floatRow())) {
        for (int i = 0; i < test.size() && rows.size() < 32; i++) {
          float[] a = p1.predict(test.features()[i]).value();
          float[] b = p2.predict(test.features()[i]).value();
          if (Math.abs(a[1] - b[1]) > 1e-3f) {
            rows.add(test.features()[i]);
            expected.add(new float[][] {null, a, b});
          }
        }
      }
      assertThat(rows).as("rows on which v1 and v2 differ").hasSize(32);

      mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
      Predictor<float[], float[]> p = mlops.predictor(CANCER_PRODUCTION, Codecs.floatRow());
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < callers; t++) {
        int seed = t;
        Thread th =
            new Thread(
                () -> {
                  long[] mine = new long[3];
                  int i = seed;
                  while (!stop.get()) {
                    int row = i++ % rows.size();
                    try {
                      Prediction<float[]> r = p.predict(rows.get(row));
                      long v = r.version();
                      if (v != 1 && v != 2) {
                        wrongVersion.increment();
                        continue;
                      }
                      mine[(int) v]++;
                      if (!matches(r.value(), expected.get(row)[(int) v])) {
                        wrongValue.increment();
                      }
                    } catch (RuntimeException | Error e) {
                      failed.increment();
                      if (errors.size() < 10) {
                        errors.add(e);
                      }
                    }
                  }
                  perVersion[1].add(mine[1]);
                  perVersion[2].add(mine[2]);
                },
                "caller-" + t);
        th.start();
        threads.add(th);
      }
      long start = System.nanoTime();
      long target = 2;
      while (System.nanoTime() - start < runNanos - flipEveryNanos) {
        long next = start + (flips + 1) * flipEveryNanos;
        TimeUnit.NANOSECONDS.sleep(Math.max(0, next - System.nanoTime()));
        mlops.registry().setAlias("cancer", PRODUCTION, target, OPS);
        // Waiting for the switch makes every flip an observable swap, so they can be counted.
        awaitServing(p, target);
        flips++;
        target = 3 - target;
      }
      TimeUnit.NANOSECONDS.sleep(Math.max(0, start + runNanos - System.nanoTime()));
      stop.set(true);
      joinAll(threads, JOIN);
      p.close();
    }
    long calls = perVersion[1].sum() + perVersion[2].sum();
    Mlops.SessionStats stats = mlops.sessionStats();
    LOG.info(
        "(a) {} callers, 30 s, {} flips: {} calls ({} on v1, {} on v2), {} failed; sessions {}",
        callers,
        flips,
        calls,
        perVersion[1].sum(),
        perVersion[2].sum(),
        failed.sum(),
        stats);

    assertThat(errors).as("exceptions that reached callers").isEmpty();
    assertThat(failed.sum()).isZero();
    assertThat(wrongVersion.sum()).as("results tagged neither v1 nor v2").isZero();
    assertThat(wrongValue.sum()).as("results whose numbers are not their version's").isZero();
    assertThat(perVersion[1].sum()).as("calls served by v1").isPositive();
    assertThat(perVersion[2].sum()).as("calls served by v2").isPositive();
    assertThat(flips).as("alias flips").isGreaterThanOrEqualTo(30);
    assertThat(events.of(LifecycleEvent.VersionSwapped.class)).hasSize(flips);
    // Both versions stay cached, so sixty flips load each version exactly once.
    assertThat(stats.opened()).isEqualTo(2);
    assertThat(stats.closed()).isEqualTo(2);
    assertThat(stats.loaded()).isZero();
    assertThat(events.loaded(1)).isEqualTo(1);
    assertThat(events.loaded(2)).isEqualTo(1);
    assertThat(events.unloaded(1)).isEqualTo(1);
    assertThat(events.unloaded(2)).isEqualTo(1);
  }

  private static boolean matches(float[] actual, float[] expected) {
    if (actual.length != expected.length) {
      return false;
    }
    for (int i = 0; i < actual.length; i++) {
      if (Math.abs(actual[i] - expected[i]) > 1e-5f) {
        return false;
      }
    }
    return true;
  }

  // ------------------------------------------------------------------------------------ (b)

  @Test
  void callsInFlightFinishOnTheOldVersionWhichClosesOnceAfterTheLastOfThem() throws Exception {
    int slowCalls = 64;
    Events events = new Events();
    Mlops mlops = runtime(events);
    GatedCodec codec = new GatedCodec();
    AtomicLongArray versions = new AtomicLongArray(slowCalls);
    LongAdder failed = new LongAdder();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    List<Integer> decodedWhenV1Closed = new CopyOnWriteArrayList<>();
    mlops.addListener(
        e -> {
          if (e instanceof LifecycleEvent.ModelUnloaded u && u.version() == 1) {
            decodedWhenV1Closed.add(codec.decoded.get());
          }
        });
    try (mlops) {
      registerCancerV1V2(mlops);
      mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
      Predictor<float[], float[]> p = mlops.predictor(CANCER_PRODUCTION, codec);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < slowCalls; t++) {
        int slot = t;
        Thread th =
            new Thread(
                () -> {
                  codec.slowOnThisThread();
                  try {
                    versions.set(slot, p.predict(new float[30]).version());
                  } catch (RuntimeException | Error e) {
                    failed.increment();
                    errors.add(e);
                  }
                },
                "slow-" + t);
        th.start();
        threads.add(th);
      }
      await(
          () -> codec.waiting.get() == slowCalls,
          Duration.ofSeconds(20),
          slowCalls + " calls blocked in decode");

      mlops.registry().setAlias("cancer", PRODUCTION, 2, OPS);
      awaitServing(p, 2);
      assertThat(p.predict(new float[30]).version()).as("a new call after the swap").isEqualTo(2);
      // Drop the cache's reference too: now only the 64 leases keep v1 open.
      mlops.evict(version(mlops, "cancer", 1));
      assertThat(events.unloaded(1)).as("v1 closed while 64 calls used it").isZero();
      Mlops.SessionStats during = mlops.sessionStats();
      assertThat(during.opened()).isEqualTo(2);
      assertThat(during.closed()).isZero();
      assertThat(during.loaded()).isEqualTo(2);
      assertThat(codec.decoded.get()).isZero();

      codec.gate.countDown();
      joinAll(threads, JOIN);
      assertThat(errors).isEmpty();
      assertThat(failed.sum()).isZero();
      for (int i = 0; i < slowCalls; i++) {
        assertThat(versions.get(i)).as("version of slow call %d", i).isEqualTo(1);
      }
      // The last call hands the close to the runtime's closer thread, so it lands just after.
      await(() -> events.unloaded(1) >= 1, JOIN, "v1 to close");
      assertThat(events.unloaded(1)).as("v1 closed once").isEqualTo(1);
      assertThat(decodedWhenV1Closed)
          .as("slow calls finished when v1 closed")
          .containsExactly(slowCalls);
      assertThat(events.unloaded(2)).isZero();
      assertThat(mlops.sessionStats().closed()).isEqualTo(1);
      p.close();
    }
    Mlops.SessionStats stats = mlops.sessionStats();
    assertThat(stats.opened()).isEqualTo(2);
    assertThat(stats.closed()).isEqualTo(2);
    assertThat(events.unloaded(1)).isEqualTo(1);
    assertThat(events.unloaded(2)).isEqualTo(1);
  }

  // ------------------------------------------------------------------------------------ (c)

  @Test
  void tenThousandSwapsWithForcedEvictionsUnderLoadNeverFailACallAndCloseEverySession()
      throws Exception {
    int swaps = 10_000;
    int callers = 4;
    Events events = new Events();
    Mlops mlops = runtime(events);
    LongAdder calls = new LongAdder();
    LongAdder failed = new LongAdder();
    LongAdder mentionsClosed = new LongAdder();
    LongAdder wrongVersion = new LongAdder();
    AtomicLong evictions = new AtomicLong();
    AtomicLong peakThreads = new AtomicLong();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    long started = System.nanoTime();
    try (mlops) {
      // The same tiny model twice: loads are cheap, so swaps and reloads come thick and fast.
      register(mlops, "tiny", TestModels.TINY, tmp);
      register(mlops, "tiny", TestModels.TINY, tmp);
      List<ModelVersion> versions = List.of(version(mlops, "tiny", 1), version(mlops, "tiny", 2));
      mlops.registry().setAlias("tiny", PRODUCTION, 1, OPS);
      Predictor<float[], float[]> p = mlops.predictor("models:/tiny@production", Codecs.floatRow());
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < callers; t++) {
        Thread th =
            new Thread(
                () -> {
                  float[] x = {1f, 2f, 3f, 4f};
                  while (!stop.get()) {
                    try {
                      long v = p.predict(x).version();
                      if (v != 1 && v != 2) {
                        wrongVersion.increment();
                      }
                      calls.increment();
                      // A breath between calls leaves the two cores to the swaps this test is
                      // about.
                      LockSupport.parkNanos(20_000);
                    } catch (RuntimeException | Error e) {
                      failed.increment();
                      if (String.valueOf(e.getMessage())
                          .toLowerCase(Locale.ROOT)
                          .contains("closed")) {
                        mentionsClosed.increment();
                      }
                      if (errors.size() < 10) {
                        errors.add(e);
                      }
                    }
                  }
                },
                "caller-" + t);
        th.start();
        threads.add(th);
      }
      Thread evictor =
          new Thread(
              () -> {
                while (!stop.get()) {
                  mlops.evict(versions.get(ThreadLocalRandom.current().nextInt(2)));
                  if (evictions.incrementAndGet() % 1024 == 0) {
                    peakThreads.accumulateAndGet(Thread.activeCount(), Math::max);
                  }
                  // Tens of thousands a second: plenty of churn without starving the other threads.
                  LockSupport.parkNanos(20_000);
                }
              },
              "evictor");
      evictor.start();
      threads.add(evictor);
      // forceAlias: no load check, so the alias moves as fast as the registry can write it and
      // the predictor's swaps race the evictions; both versions are known to load.
      for (int i = 0; i < swaps; i++) {
        mlops.registry().forceAlias("tiny", PRODUCTION, 2 - (i % 2), OPS);
      }
      long last = 2 - ((swaps - 1) % 2);
      awaitServing(p, last);
      assertThat(p.predict(new float[4]).version()).isEqualTo(last);
      stop.set(true);
      joinAll(threads, JOIN);
      p.close();
    }
    Mlops.SessionStats stats = mlops.sessionStats();
    long swapped = events.of(LifecycleEvent.VersionSwapped.class).size();
    LOG.info(
        "(c) {} alias moves, {} swaps, {} evictions, {} calls, {} failed; sessions {}; peak threads {}; {} ms",
        swaps,
        swapped,
        evictions.get(),
        calls.sum(),
        failed.sum(),
        stats,
        peakThreads.get(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));

    assertThat(errors).as("exceptions that reached callers").isEmpty();
    assertThat(failed.sum()).isZero();
    assertThat(mentionsClosed.sum()).as("failures mentioning 'closed'").isZero();
    assertThat(wrongVersion.sum()).isZero();
    assertThat(calls.sum()).isPositive();
    assertThat(swapped).as("swaps").isPositive();
    // The evictions forced reloads: far more sessions than the two versions.
    assertThat(stats.opened()).as("sessions opened").isGreaterThan(2);
    assertThat(stats.closed()).isEqualTo(stats.opened());
    assertThat(stats.loaded()).isZero();
    assertThat(events.loaded()).isEqualTo(stats.opened());
    assertThat(events.unloaded()).isEqualTo(stats.opened());
  }

  // ------------------------------------------------------------------------------------ (d)

  @Test
  void aliasForcedOntoACorruptVersionLeavesTheOldOneServingWithoutAFailedCall() throws Exception {
    int callers = 16;
    Events events = new Events();
    Mlops mlops = runtime(events);
    LongAdder[] perVersion = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
    LongAdder failed = new LongAdder();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    ModelVersion v3;
    try (mlops) {
      registerCancerV1V2(mlops);
      v3 = register(mlops, "cancer", TestModels.BREAST_CANCER_V2, tmp);
      mlops.registry().setAlias("cancer", PRODUCTION, 2, OPS);
      Predictor<float[], float[]> p = mlops.predictor(CANCER_PRODUCTION, Codecs.floatRow());
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < callers; t++) {
        Thread th =
            new Thread(
                () -> {
                  while (!stop.get()) {
                    try {
                      perVersion[(int) p.predict(new float[30]).version()].increment();
                    } catch (RuntimeException | Error e) {
                      failed.increment();
                      if (errors.size() < 10) {
                        errors.add(e);
                      }
                    }
                  }
                },
                "caller-" + t);
        th.start();
        threads.add(th);
      }
      // A valid model, but not the bytes that were registered: only the digest check catches it.
      Path stored = dev.mlops.runtime.testing.Stored.modelFile(mlops.registry(), v3);
      Files.write(stored, TestModels.bytes(TestModels.BREAST_CANCER_V1));
      mlops.registry().forceAlias("cancer", PRODUCTION, 3, OPS);
      await(
          () -> !events.of(LifecycleEvent.ModelLoadFailed.class).isEmpty(),
          Duration.ofSeconds(20),
          "ModelLoadFailed for v3");
      Thread.sleep(200); // calls keep coming after the failed swap
      stop.set(true);
      joinAll(threads, JOIN);
      assertThat(p.servingVersion()).map(ModelVersion::version).contains(2L);
      assertThat(mlops.registry().aliases("cancer")).containsEntry(PRODUCTION, 3L);
      p.close();
    }
    LOG.info(
        "(d) {} calls on v2 while the alias was forced onto a corrupt v3, {} failed",
        perVersion[2].sum(),
        failed.sum());
    assertThat(errors).isEmpty();
    assertThat(failed.sum()).isZero();
    assertThat(perVersion[2].sum()).isPositive();
    assertThat(perVersion[1].sum() + perVersion[3].sum()).as("calls on other versions").isZero();
    assertThat(events.of(LifecycleEvent.ModelLoadFailed.class))
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.version()).isEqualTo(3);
              assertThat(f.cause())
                  .isInstanceOf(IntegrityException.class)
                  .hasMessageContaining("expected sha256 " + v3.files().get(0).sha256());
            });
    assertThat(events.loaded(3)).isZero();
    assertThat(events.of(LifecycleEvent.VersionSwapped.class)).isEmpty();
    assertThat(events.loaded()).isEqualTo(1);
    assertThat(mlops.sessionStats().opened()).isEqualTo(1);
    assertThat(mlops.sessionStats().closed()).isEqualTo(1);
  }

  // ------------------------------------------------------------------------------------ (e)

  @Test
  void rollingBackToACachedVersionNeedsNoLoad() throws Exception {
    Events events = new Events();
    Mlops mlops = runtime(events);
    try (mlops) {
      registerCancerV1V2(mlops);
      mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
      try (Predictor<float[], float[]> p = mlops.predictor(CANCER_PRODUCTION, Codecs.floatRow())) {
        mlops.registry().setAlias("cancer", PRODUCTION, 2, OPS);
        awaitServing(p, 2);
        assertThat(mlops.sessionStats().opened()).isEqualTo(2);
        mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
        awaitServing(p, 1);
        assertThat(p.predict(new float[30]).version()).isEqualTo(1);
        assertThat(mlops.sessionStats().opened())
            .as("sessions opened after rolling back")
            .isEqualTo(2);
        assertThat(mlops.sessionStats().closed()).isZero();
        assertThat(events.loadTrace()).containsExactly("L1", "L2");
        // The swap publishes its event just after it switches.
        await(
            () -> events.of(LifecycleEvent.VersionSwapped.class).size() == 2,
            Duration.ofSeconds(20),
            "two VersionSwapped events");
        assertThat(events.of(LifecycleEvent.VersionSwapped.class))
            .extracting(s -> s.fromVersion() + "->" + s.toVersion())
            .containsExactly("1->2", "2->1");
      }
    }
    assertThat(mlops.sessionStats().closed()).isEqualTo(2);
  }

  // ------------------------------------------------------------------------------------ (f)

  @Test
  void resourcePreservingSwapsUnloadBeforeLoadingAndCallersWaitInsteadOfFailing() throws Exception {
    int callers = 8;
    int swaps = 20;
    Events events = new Events();
    Mlops mlops = runtime(events);
    LongAdder[] perVersion = {new LongAdder(), new LongAdder(), new LongAdder()};
    LongAdder failed = new LongAdder();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    try (mlops) {
      registerCancerV1V2(mlops);
      mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
      Predictor<float[], float[]> p =
          mlops
              .newPredictor(CANCER_PRODUCTION, Codecs.floatRow())
              .swapMode(SwapMode.RESOURCE_PRESERVING)
              .swapGapTimeout(Duration.ofSeconds(20))
              .build();
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < callers; t++) {
        Thread th =
            new Thread(
                () -> {
                  while (!stop.get()) {
                    try {
                      perVersion[(int) p.predict(new float[30]).version()].increment();
                    } catch (RuntimeException | Error e) {
                      failed.increment();
                      if (errors.size() < 10) {
                        errors.add(e);
                      }
                    }
                  }
                },
                "caller-" + t);
        th.start();
        threads.add(th);
      }
      for (int i = 0; i < swaps; i++) {
        long target = i % 2 == 0 ? 2 : 1;
        Thread.sleep(20);
        // forceAlias: setAlias's check would load the target into the runtime while the old version
        // serves, two copies, which is what a model in this mode cannot afford (see the README).
        mlops.registry().forceAlias("cancer", PRODUCTION, target, OPS);
        awaitServing(p, target);
      }
      Thread.sleep(20);
      stop.set(true);
      joinAll(threads, JOIN);
      p.close();
    }
    LOG.info(
        "(f) resource-preserving, {} swaps: {} calls ({} on v1, {} on v2), {} failed; trace {}",
        swaps,
        perVersion[1].sum() + perVersion[2].sum(),
        perVersion[1].sum(),
        perVersion[2].sum(),
        failed.sum(),
        events.loadTrace());
    assertThat(errors).isEmpty();
    assertThat(failed.sum()).isZero();
    assertThat(perVersion[1].sum()).isPositive();
    assertThat(perVersion[2].sum()).isPositive();
    assertThat(events.of(LifecycleEvent.VersionSwapped.class)).hasSize(swaps);
    // Every swap unloads the old version before it loads the new one: never two sessions.
    List<String> expected = new ArrayList<>(List.of("L1"));
    for (int i = 0; i < swaps; i++) {
      long from = i % 2 == 0 ? 1 : 2;
      expected.add("U" + from);
      expected.add("L" + (3 - from));
    }
    expected.add("U" + (swaps % 2 == 0 ? 1 : 2));
    assertThat(events.loadTrace()).containsExactlyElementsOf(expected);
    assertThat(mlops.sessionStats().opened()).isEqualTo(swaps + 1);
    assertThat(mlops.sessionStats().closed()).isEqualTo(swaps + 1);
  }

  /**
   * The session's bookkeeping (closed count, ModelUnloaded) must be done before the swap that waits
   * for it goes on to load the next version. A listener that takes its time on ModelUnloaded makes
   * any ordering slip visible instead of rare.
   */
  @Test
  void resourcePreservingSwapReportsTheOldSessionClosedBeforeItLoadsTheNewOne() throws Exception {
    Events events = new Events();
    Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build();
    List<Long> openWhenV2Loaded = new CopyOnWriteArrayList<>();
    mlops.addListener(
        e -> {
          if (e instanceof LifecycleEvent.ModelUnloaded) {
            sleepQuietly(300);
          }
          if (e instanceof LifecycleEvent.ModelLoaded l && l.version() == 2) {
            Mlops.SessionStats s = mlops.sessionStats();
            openWhenV2Loaded.add(s.opened() - s.closed());
          }
        });
    mlops.addListener(events);
    GatedCodec codec = new GatedCodec();
    try (mlops) {
      registerCancerV1V2(mlops);
      mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
      Predictor<float[], float[]> p =
          mlops
              .newPredictor(CANCER_PRODUCTION, codec)
              .swapMode(SwapMode.RESOURCE_PRESERVING)
              .swapGapTimeout(Duration.ofSeconds(20))
              .build();
      AtomicLong slowVersion = new AtomicLong();
      Thread slow =
          new Thread(
              () -> {
                codec.slowOnThisThread();
                slowVersion.set(p.predict(new float[30]).version());
              },
              "slow");
      slow.start();
      await(
          () -> codec.waiting.get() == 1,
          Duration.ofSeconds(20),
          "the slow call to block in decode");
      mlops
          .registry()
          .forceAlias("cancer", PRODUCTION, 2, OPS); // no second copy from setAlias's check
      // The swap has let go of v1 and now waits for the slow call's lease.
      await(
          () -> p.servingVersion().isEmpty(),
          Duration.ofSeconds(20),
          "the swap to take v1 out of service");
      Thread.sleep(50);
      assertThat(events.loadTrace()).containsExactly("L1");
      codec.gate.countDown();
      awaitServing(p, 2);
      joinAll(List.of(slow), JOIN);
      assertThat(slowVersion.get()).isEqualTo(1);
      assertThat(p.predict(new float[30]).version()).isEqualTo(2);
      assertThat(events.loadTrace()).containsExactly("L1", "U1", "L2");
      assertThat(openWhenV2Loaded)
          .as("sessions open when v2 was reported loaded")
          .containsExactly(1L);
      p.close();
    }
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------------------------ (h)

  /**
   * A predictor resolves its alias, loads that version, then starts listening for alias moves. A
   * move in between (while the first version loads, which takes long for big models) must not be
   * lost, or the predictor serves the old version until the alias moves again.
   */
  @Test
  void aliasMovedWhileThePredictorLoadsItsFirstVersionIsFollowed() throws Exception {
    Events events = new Events();
    GatedEngine engine = new GatedEngine(OnnxRuntimeEngine.builder().build());
    Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).engine(engine).build();
    mlops.addListener(events);
    try (engine;
        mlops) {
      registerCancerV1V2(mlops);
      // forceAlias: setAlias's check would load v1 into the runtime, and the predictor would find
      // it loaded.
      mlops.registry().forceAlias("cancer", PRODUCTION, 1, OPS);
      engine.armed.set(true);
      List<Predictor<float[], float[]>> built = new CopyOnWriteArrayList<>();
      Thread builder =
          new Thread(
              () -> built.add(mlops.predictor(CANCER_PRODUCTION, Codecs.floatRow())), "builder");
      builder.start();
      assertThat(engine.entered.await(20, TimeUnit.SECONDS))
          .as("the predictor started loading v1")
          .isTrue();
      mlops.registry().setAlias("cancer", PRODUCTION, 2, OPS);
      engine.gate.countDown();
      joinAll(List.of(builder), JOIN);
      assertThat(built).hasSize(1);
      try (Predictor<float[], float[]> p = built.get(0)) {
        awaitServing(p, 2);
        assertThat(p.predict(new float[30]).version()).isEqualTo(2);
      }
      assertThat(events.of(LifecycleEvent.VersionSwapped.class))
          .extracting(s -> s.fromVersion() + "->" + s.toVersion())
          .containsExactly("1->2");
    }
  }

  /** Delegates to a real engine; once armed, the next open waits for the gate. */
  private static final class GatedEngine implements InferenceEngine {
    private final InferenceEngine delegate;
    final AtomicBoolean armed = new AtomicBoolean();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);

    GatedEngine(InferenceEngine delegate) {
      this.delegate = delegate;
    }

    @Override
    public String name() {
      return "gated-" + delegate.name();
    }

    @Override
    public ModelSession open(ArtifactLocation artifact) {
      if (armed.compareAndSet(true, false)) {
        entered.countDown();
        try {
          if (!gate.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test never opened the gate");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      return delegate.open(artifact);
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  // ------------------------------------------------------------------------------------ (g)

  @Test
  void keepWarmHoldsThePreviousVersionAfterTheCacheDropsItSoSwappingBackNeedsNoLoad()
      throws Exception {
    Events events = new Events();
    Mlops mlops = runtime(events);
    try (mlops) {
      registerCancerV1V2(mlops);
      mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
      try (Predictor<float[], float[]> p =
          mlops.newPredictor(CANCER_PRODUCTION, Codecs.floatRow()).keepWarm(1).build()) {
        mlops.registry().setAlias("cancer", PRODUCTION, 2, OPS);
        awaitServing(p, 2);
        mlops.evict(version(mlops, "cancer", 1));
        assertThat(events.unloaded(1))
            .as("v1 closed although the predictor keeps it warm")
            .isZero();
        assertThat(mlops.sessionStats().loaded()).isEqualTo(2);

        mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
        awaitServing(p, 1);
        assertThat(p.predict(new float[30]).version()).isEqualTo(1);
        assertThat(events.loadTrace()).as("loads and unloads").containsExactly("L1", "L2");
        assertThat(mlops.sessionStats().opened()).isEqualTo(2);
        // Now v2 is the warm one: dropping it from the cache does not close it either.
        mlops.evict(version(mlops, "cancer", 2));
        assertThat(events.unloaded()).isZero();
        assertThat(mlops.sessionStats().loaded()).isEqualTo(2);
      }
      // setAlias's check found v1 open (kept warm) and put it back in the cache instead of loading
      // it again; v2 was dropped from the cache, so closing the predictor closes v2 only.
      assertThat(events.loadTrace()).containsExactly("L1", "L2", "U2");
    }
    assertThat(mlops.sessionStats().opened()).isEqualTo(2);
    assertThat(mlops.sessionStats().closed()).isEqualTo(2);
  }

  /** The control for the test above: without keepWarm the same steps close v1 and reload it. */
  @Test
  void withoutKeepWarmEvictingThePreviousVersionClosesItAndSwappingBackLoadsItAgain()
      throws Exception {
    Events events = new Events();
    Mlops mlops = runtime(events);
    try (mlops) {
      registerCancerV1V2(mlops);
      mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
      try (Predictor<float[], float[]> p = mlops.predictor(CANCER_PRODUCTION, Codecs.floatRow())) {
        mlops.registry().setAlias("cancer", PRODUCTION, 2, OPS);
        awaitServing(p, 2);
        mlops.evict(version(mlops, "cancer", 1));
        assertThat(events.unloaded(1)).isEqualTo(1);
        mlops.registry().setAlias("cancer", PRODUCTION, 1, OPS);
        awaitServing(p, 1);
        assertThat(events.loadTrace()).containsExactly("L1", "L2", "U1", "L1");
      }
    }
    assertThat(mlops.sessionStats().opened()).isEqualTo(3);
    assertThat(mlops.sessionStats().closed()).isEqualTo(3);
  }
}
