package dev.mlops.samples.springboot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelRegistry;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.RuntimeState;
import dev.mlops.testmodels.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.json.JsonMapper;

/**
 * The sample over real HTTP: the service started on a random port, 16 concurrent clients calling
 * {@code POST /predict} for 20 s while {@code production} moves three times (v1 -> v2 -> v1 -> v2),
 * then health, readiness and the mlops endpoint over HTTP, then an orderly close.
 */
class PredictionServiceIT {

  private static final int CLIENTS = 16;
  private static final Duration RUN = Duration.ofSeconds(20);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @Test
  void sixteenClientsSeeNoFailedCallWhileTheAliasMovesThreeTimes() throws Exception {
    Path registry = Files.createTempDirectory("mlops-sample-it-").resolve("registry");
    PredictionService.seedIfEmpty(registry);

    long t0 = System.nanoTime();
    ConfigurableApplicationContext app =
        new SpringApplication(PredictionService.class)
            .run("--server.port=0", "--mlops.registry.url=" + registry);
    long startupMs = (System.nanoTime() - t0) / 1_000_000;
    String base = "http://localhost:" + app.getEnvironment().getProperty("local.server.port");
    System.out.println("started in " + startupMs + " ms at " + base);

    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    float[][] rows = TestModels.breastCancerTestSet().features();
    LongAdder calls = new LongAdder();
    Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    Map<Long, LongAdder> versions = new ConcurrentHashMap<>();
    List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicLong maxNanos = new AtomicLong();
    long end = System.nanoTime() + RUN.toNanos();
    CountDownLatch started = new CountDownLatch(CLIENTS);
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int id = c;
      Thread t =
          new Thread(
              () -> {
                started.countDown();
                int i = id;
                while (System.nanoTime() < end) {
                  float[] row = rows[i++ % rows.length];
                  HttpRequest req =
                      HttpRequest.newBuilder(URI.create(base + "/predict"))
                          .header("Content-Type", "application/json")
                          .timeout(Duration.ofSeconds(10))
                          .POST(HttpRequest.BodyPublishers.ofString(body(row)))
                          .build();
                  long s = System.nanoTime();
                  try {
                    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                    maxNanos.accumulateAndGet(System.nanoTime() - s, Math::max);
                    calls.increment();
                    statuses.computeIfAbsent(r.statusCode(), k -> new LongAdder()).increment();
                    if (r.statusCode() == 200) {
                      Map<?, ?> out = JSON.readValue(r.body(), Map.class);
                      long v = ((Number) out.get("version")).longValue();
                      versions.computeIfAbsent(v, k -> new LongAdder()).increment();
                      if (((List<?>) out.get("probabilities")).size() != 2) {
                        failures.add("bad body " + r.body());
                      }
                    } else if (failures.size() < 5) {
                      failures.add(r.statusCode() + " " + r.body());
                    }
                  } catch (Exception e) {
                    calls.increment();
                    statuses.computeIfAbsent(-1, k -> new LongAdder()).increment();
                    if (failures.size() < 5) {
                      failures.add(e.toString());
                    }
                  }
                }
              },
              "client-" + c);
      t.start();
      clients.add(t);
    }
    started.await();

    ModelRegistry models = app.getBean(ModelRegistry.class);
    long[] moves = {2, 1, 2};
    for (long to : moves) {
      Thread.sleep(RUN.toMillis() / 4);
      models.setAlias("cancer", "production", to, AuditInfo.by("it", "move to v" + to));
      System.out.println("moved production to v" + to + " after " + calls.sum() + " calls");
    }
    for (Thread t : clients) {
      t.join();
    }

    long non200 =
        statuses.entrySet().stream()
            .filter(e -> e.getKey() != 200)
            .mapToLong(e -> e.getValue().sum())
            .sum();
    System.out.printf(
        "calls=%d non200=%d statuses=%s versions=%s slowest=%.1f ms%n",
        calls.sum(), non200, statuses, versions, maxNanos.get() / 1e6);
    assertThat(failures).isEmpty();
    assertThat(non200).isZero();
    assertThat(calls.sum()).isGreaterThan(CLIENTS);
    assertThat(versions.keySet()).containsExactlyInAnyOrder(1L, 2L);

    // Health over HTTP: the predictor serves v2, and it is in the readiness group.
    Map<?, ?> health = get(http, base + "/actuator/health", 200);
    assertThat(health.get("status")).isEqualTo("UP");
    Map<?, ?> cancer = path(health, "components", "mlops", "components", "cancer");
    assertThat(cancer.get("status")).isEqualTo("UP");
    assertThat(path(cancer, "details").get("version")).isEqualTo(2);
    Map<?, ?> readiness = get(http, base + "/actuator/health/readiness", 200);
    assertThat(readiness.get("status")).isEqualTo("UP");
    assertThat(path(readiness, "components").keySet().stream().map(Object::toString).toList())
        .containsExactlyInAnyOrder("readinessState", "mlops");

    // The endpoint over HTTP.
    Map<?, ?> mlops = get(http, base + "/actuator/mlops", 200);
    List<?> all = (List<?>) mlops.get("models");
    assertThat(all).hasSize(1);
    Map<?, ?> model = (Map<?, ?>) all.get(0);
    assertThat(model.get("name")).isEqualTo("cancer");
    assertThat(model.get("aliases")).isEqualTo(Map.of("production", 2));
    assertThat((List<?>) model.get("versions")).hasSize(2);
    Map<?, ?> predictor = path(mlops, "predictors", "cancer");
    assertThat(predictor.get("status")).isEqualTo("UP");
    assertThat(predictor.get("version")).isEqualTo(2);
    assertThat(predictor.get("target")).isEqualTo("models:/cancer@production");
    assertThat(path(mlops, "listener").get("status")).isEqualTo("NONE");
    get(http, base + "/actuator/mlops/nothing", 404);
    HttpResponse<String> write =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/actuator/mlops/cancer"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"action\":\"move-alias\",\"alias\":\"production\",\"version\":1}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(write.statusCode()).isEqualTo(403);
    assertThat(models.aliases("cancer")).containsEntry("production", 2L);

    Mlops runtime = app.getBean(Mlops.class);
    long c0 = System.nanoTime();
    app.close();
    System.out.printf("closed in %d ms%n", (System.nanoTime() - c0) / 1_000_000);
    RuntimeState s = runtime.state();
    assertThat(s.open()).isFalse();
    assertThat(s.sessions().closed()).isEqualTo(s.sessions().opened());
  }

  private static String body(float[] row) {
    StringBuilder b = new StringBuilder("{\"features\":[");
    for (int i = 0; i < row.length; i++) {
      b.append(i == 0 ? "" : ",").append(row[i]);
    }
    return b.append("]}").toString();
  }

  private static Map<?, ?> get(HttpClient http, String url, int status) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url + " " + r.body()).isEqualTo(status);
    return JSON.readValue(r.body(), Map.class);
  }

  private static Map<?, ?> path(Map<?, ?> m, String... keys) {
    Map<?, ?> at = m;
    for (String k : keys) {
      Object next = at.get(k);
      assertThat(next).as(Arrays.toString(keys) + " in " + m).isInstanceOf(Map.class);
      at = (Map<?, ?>) next;
    }
    return at;
  }
}
