package dev.mlops.runtime.local;

import static dev.mlops.runtime.local.RegistryTestSupport.assertCompleteVersions;
import static dev.mlops.runtime.local.RegistryTestSupport.audit;
import static dev.mlops.runtime.local.RegistryTestSupport.oneTo;
import static dev.mlops.runtime.local.RegistryTestSupport.registeredInAudit;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many threads of one JVM registering versions of one model at the same moment. */
class ConcurrentRegistrationTest {

  private static final String MODEL = "cancer";
  private static final int THREADS = 32;

  @TempDir Path tmp;

  @Test
  void thirtyTwoThreadsOnOneInstanceGetVersionsOneToThirtyTwo() throws Exception {
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    try (GovernedRegistry registry = LocalModelRegistry.open(tmp.resolve("registry"))) {
      Map<Integer, ModelVersion> byThread =
          registerAtOnce(Collections.nCopies(THREADS, registry), ArtifactSource.file(file));

      assertRegisteredExactlyOnceEach(registry, byThread);
    }
  }

  @Test
  void twoInstancesOnOneDirectoryInOneJvmShareOneNumbering() throws Exception {
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    Path root = tmp.resolve("registry");
    try (GovernedRegistry first = LocalModelRegistry.open(root);
        GovernedRegistry second = LocalModelRegistry.open(root)) {
      List<GovernedRegistry> perThread = new ArrayList<>();
      for (int i = 0; i < THREADS; i++) {
        perThread.add(i % 2 == 0 ? first : second);
      }

      Map<Integer, ModelVersion> byThread = registerAtOnce(perThread, ArtifactSource.file(file));

      assertThat(byThread.entrySet().stream().filter(e -> e.getKey() % 2 == 0))
          .hasSize(THREADS / 2);
      assertRegisteredExactlyOnceEach(first, byThread);
      assertThat(second.versions(MODEL)).isEqualTo(first.versions(MODEL));
      assertThat(second.auditLog()).isEqualTo(first.auditLog());
    }
  }

  /**
   * Opening a registry removes the staging entries of dead processes; it must not take the entries
   * of registrations that another instance in this same, live process is writing.
   */
  @Test
  void openingAnotherInstanceWhileRegistrationsRunLeavesThemIntact() throws Exception {
    Path artifact = Files.createDirectories(tmp.resolve("artifact"));
    TestModels.copy(TestModels.BREAST_CANCER_V1, artifact);
    byte[] junk = new byte[512 * 1024];
    new Random(42).nextBytes(junk);
    for (int i = 0; i < 4; i++) {
      Files.write(artifact.resolve("weights-" + i + ".bin"), junk);
    }
    Path root = tmp.resolve("registry");
    int threads = 8;
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<ModelVersion>> futures = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          int thread = i;
          futures.add(
              pool.submit(
                  () -> {
                    start.await();
                    return registry.register(
                        Registration.builder(
                                MODEL,
                                ArtifactSource.directory(artifact, TestModels.BREAST_CANCER_V1))
                            .tag("thread", Integer.toString(thread))
                            .build(),
                        AuditInfo.by("thread-" + thread, "concurrency test"));
                  }));
        }
        start.countDown();
        int opened = 0;
        while (futures.stream().anyMatch(f -> !f.isDone())) {
          LocalModelRegistry.open(root).close();
          opened++;
        }
        List<ModelVersion> registered = new ArrayList<>();
        for (Future<ModelVersion> f : futures) {
          registered.add(f.get(60, TimeUnit.SECONDS));
        }

        assertThat(opened).isPositive();
        assertThat(registered)
            .extracting(ModelVersion::version)
            .containsExactlyInAnyOrderElementsOf(oneTo(threads));
        assertThat(assertCompleteVersions(registry, MODEL, threads))
            .containsExactlyInAnyOrderElementsOf(registered);
        assertThat(registered).allSatisfy(v -> assertThat(v.files()).hasSize(5));
        assertThat(stagingEntries(root)).isEmpty();
      } finally {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  /**
   * Thread {@code i} registers through {@code perThread.get(i)}; all start on one latch. Returns
   * what each thread got back, by thread index.
   */
  private static Map<Integer, ModelVersion> registerAtOnce(
      List<GovernedRegistry> perThread, ArtifactSource source) throws Exception {
    int n = perThread.size();
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch ready = new CountDownLatch(n);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<ModelVersion>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int thread = i;
        GovernedRegistry registry = perThread.get(i);
        futures.add(
            pool.submit(
                () -> {
                  ready.countDown();
                  start.await();
                  return registry.register(
                      Registration.builder(MODEL, source)
                          .tag("thread", Integer.toString(thread))
                          .build(),
                      AuditInfo.by("thread-" + thread, "concurrency test"));
                }));
      }
      assertThat(ready.await(30, TimeUnit.SECONDS)).as("all threads ready").isTrue();
      start.countDown();
      Map<Integer, ModelVersion> byThread = new TreeMap<>();
      for (int i = 0; i < n; i++) {
        byThread.put(i, futures.get(i).get(60, TimeUnit.SECONDS));
      }
      return byThread;
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  private static void assertRegisteredExactlyOnceEach(
      GovernedRegistry registry, Map<Integer, ModelVersion> byThread) throws Exception {
    int n = byThread.size();
    assertThat(byThread.values())
        .extracting(ModelVersion::version)
        .containsExactlyInAnyOrderElementsOf(oneTo(n));

    List<ModelVersion> stored = assertCompleteVersions(registry, MODEL, n);
    for (ModelVersion v : stored) {
      int thread = Integer.parseInt(v.tags().get("thread"));
      assertThat(v)
          .as("what thread %d was told it registered", thread)
          .isEqualTo(byThread.get(thread));
      assertThat(v.createdBy()).isEqualTo("thread-" + thread);
    }

    // Numbers are assigned and audited under one lock, so the log is in number order.
    assertThat(registeredInAudit(registry, MODEL)).containsExactlyElementsOf(oneTo(n));
    List<AuditEntry> entries = audit(registry, MODEL, AuditAction.REGISTER);
    Map<Long, String> actorByNumber =
        stored.stream().collect(Collectors.toMap(ModelVersion::version, ModelVersion::createdBy));
    for (AuditEntry e : entries) {
      long number = Long.parseLong(e.details().get("version"));
      assertThat(e.actor()).isEqualTo(actorByNumber.get(number));
      assertThat(e.details().get("digest")).isEqualTo(stored.get((int) number - 1).digest());
    }
    assertThat(registry.auditLog()).hasSize(n);
    assertThat(stagingEntries(LocalModelRegistry.root(registry).orElseThrow())).isEmpty();
  }
}
