package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Callers never see a failure while the alias they follow flips between two versions. */
class HotSwapUnderLoadTest {

  private static final int THREADS = 16;
  private static final int FLIPS = 40;

  @TempDir Path tmp;

  @Test
  void aliasFlipsUnderLoadCauseNoFailedCallAndEverySessionIsClosed() throws Exception {
    TestSet test = TestModels.breastCancerTestSet();
    AuditInfo ops = AuditInfo.by("ops", "flip");
    LongAdder ok = new LongAdder();
    AtomicLong failed = new AtomicLong();
    ConcurrentHashMap<Long, LongAdder> perVersion = new ConcurrentHashMap<>();
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());

    Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build();
    try (mlops) {
      for (String f : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
        mlops
            .registry()
            .register(
                Registration.builder(
                        "cancer", ArtifactSource.file(TestModels.copy(f, tmp.resolve(f))))
                    .build(),
                ops);
      }
      mlops.registry().setAlias("cancer", "production", 1, ops);
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      AtomicBoolean stop = new AtomicBoolean();
      CountDownLatch started = new CountDownLatch(THREADS);
      List<Thread> callers = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int seed = t;
        Thread th =
            new Thread(
                () -> {
                  started.countDown();
                  int i = seed;
                  while (!stop.get()) {
                    try {
                      Prediction<float[]> r = p.predict(test.features()[i++ % test.size()]);
                      perVersion.computeIfAbsent(r.version(), k -> new LongAdder()).increment();
                      ok.increment();
                    } catch (RuntimeException e) {
                      failed.incrementAndGet();
                      errors.add(e);
                    }
                  }
                });
        th.start();
        callers.add(th);
      }
      started.await();
      for (int i = 0; i < FLIPS; i++) {
        Thread.sleep(25);
        mlops.registry().setAlias("cancer", "production", i % 2 == 0 ? 2 : 1, ops);
      }
      Thread.sleep(100);
      stop.set(true);
      for (Thread th : callers) {
        th.join(TimeUnit.SECONDS.toMillis(30));
      }
      p.close();
    }
    assertThat(errors).isEmpty();
    assertThat(failed.get()).isZero();
    assertThat(ok.sum()).isPositive();
    assertThat(perVersion.keySet()).containsExactlyInAnyOrder(1L, 2L);
    Mlops.SessionStats stats = mlops.sessionStats();
    assertThat(stats.opened()).isEqualTo(stats.closed()).isGreaterThanOrEqualTo(2);
    assertThat(stats.loaded()).isZero();
  }
}
