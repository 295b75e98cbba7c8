package dev.mlops.samples.micronaut;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlops.testmodels.TestModels;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service over real HTTP: 16 clients call {@code POST /predict} for 20 s while {@code
 * production} moves v1 -> v2 -> v1 -> v2 through the {@code /mlops} endpoint; every call must get a
 * 200.
 */
class CancerServiceIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CLIENTS = 16;
  private static final Duration RUN = Duration.ofSeconds(20);

  @TempDir Path dir;

  @Test
  void sixteenClientsGetOnly200sWhileTheAliasMovesThreeTimes() throws Exception {
    Path models = dir.resolve("models");
    DemoRegistry.seed(models, dir.resolve("files"));
    long startNanos = System.nanoTime();
    try (EmbeddedServer server =
        ApplicationContext.run(
            EmbeddedServer.class,
            Map.of(
                "micronaut.server.port", "-1",
                "mlops.registry.url", models.toString(),
                "mlops.endpoint.writes-enabled", "true"))) {
      System.out.printf(
          "service up on %s in %d ms%n",
          server.getURL(), Duration.ofNanos(System.nanoTime() - startNanos).toMillis());
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      String base = server.getURL().toString();

      // Health and the endpoint, before.
      JsonNode health = get(http, base + "/health");
      assertThat(health.get("status").asText()).isEqualTo("UP");
      JsonNode cancerHealth = health.get("details").get("mlops-cancer");
      assertThat(cancerHealth.get("status").asText()).isEqualTo("UP");
      assertThat(cancerHealth.get("details").get("servingVersion").asLong()).isEqualTo(1);
      JsonNode before = get(http, base + "/mlops");
      assertThat(before.get("predictors").get("cancer").get("servingVersion").asLong())
          .isEqualTo(1);

      float[][] rows = TestModels.breastCancerTestSet().features();
      String[] bodies = new String[rows.length];
      for (int i = 0; i < rows.length; i++) {
        bodies[i] = JSON.writeValueAsString(Map.of("features", rows[i]));
      }
      LongAdder calls = new LongAdder();
      Map<Integer, LongAdder> nonOk = new ConcurrentHashMap<>();
      Map<Long, LongAdder> byVersion = new ConcurrentHashMap<>();
      List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
      long[][] latencies = new long[CLIENTS][];
      long end = System.nanoTime() + RUN.toNanos();
      CountDownLatch done = new CountDownLatch(CLIENTS);
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        Thread t =
            new Thread(
                () -> {
                  long[] lat = new long[1 << 16];
                  int n = 0;
                  int i = client;
                  try {
                    while (System.nanoTime() < end) {
                      HttpRequest req =
                          HttpRequest.newBuilder(URI.create(base + "/predict"))
                              .header("Content-Type", "application/json")
                              .POST(HttpRequest.BodyPublishers.ofString(bodies[i % bodies.length]))
                              .build();
                      long t0 = System.nanoTime();
                      HttpResponse<String> r;
                      try {
                        r = http.send(req, HttpResponse.BodyHandlers.ofString());
                      } catch (Exception e) {
                        errors.add(e.toString());
                        nonOk.computeIfAbsent(-1, k -> new LongAdder()).increment();
                        calls.increment();
                        continue;
                      }
                      long took = System.nanoTime() - t0;
                      if (n == lat.length) {
                        lat = Arrays.copyOf(lat, n * 2);
                      }
                      lat[n++] = took;
                      calls.increment();
                      if (r.statusCode() != 200) {
                        nonOk.computeIfAbsent(r.statusCode(), k -> new LongAdder()).increment();
                        errors.add(r.statusCode() + " " + r.body());
                      } else {
                        long v = JSON.readTree(r.body()).get("version").asLong();
                        byVersion.computeIfAbsent(v, k -> new LongAdder()).increment();
                      }
                      i += CLIENTS;
                    }
                  } catch (Exception e) {
                    errors.add(e.toString());
                  } finally {
                    latencies[client] = Arrays.copyOf(lat, n);
                    done.countDown();
                  }
                },
                "client-" + c);
        clients.add(t);
        t.start();
      }

      // Three moves through the endpoint, 5 s apart, each audited with the caller.
      long[] targets = {2, 1, 2};
      for (long target : targets) {
        Thread.sleep(5_000);
        JsonNode moved =
            post(
                http,
                base + "/mlops/cancer/production",
                "{\"version\":" + target + ",\"reason\":\"sample move\"}");
        long t0 = System.nanoTime();
        while (get(http, base + "/mlops")
                .get("predictors")
                .get("cancer")
                .get("servingVersion")
                .asLong()
            != target) {
          Thread.sleep(2);
        }
        System.out.printf(
            "moved production %d -> %d; the predictor served v%d %.1f ms after the move returned%n",
            moved.get("fromVersion").asLong(), target, target, (System.nanoTime() - t0) / 1e6);
      }
      done.await();

      long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
      System.out.printf(
          "%d clients, %d s: %d calls, %d non-200 (%s), by version %s, latency p50 %.2f ms, p99 %.2f"
              + " ms, max %.2f ms%n",
          CLIENTS,
          RUN.toSeconds(),
          calls.sum(),
          nonOk.values().stream().mapToLong(LongAdder::sum).sum(),
          nonOk,
          byVersion,
          all[all.length / 2] / 1e6,
          all[(int) (all.length * 0.99)] / 1e6,
          all[all.length - 1] / 1e6);
      assertThat(errors).as("failed calls").isEmpty();
      assertThat(nonOk).isEmpty();
      assertThat(calls.sum()).isGreaterThan(0);
      assertThat(byVersion.keySet()).containsExactlyInAnyOrder(1L, 2L);
      assertThat(byVersion.values().stream().mapToLong(LongAdder::sum).sum())
          .isEqualTo(calls.sum());

      // Health and the endpoint, after.
      JsonNode after = get(http, base + "/mlops");
      JsonNode cancer = after.get("models").get(0);
      assertThat(cancer.get("aliases").get("production").asLong()).isEqualTo(2);
      assertThat(after.get("predictors").get("cancer").get("status").asText()).isEqualTo("UP");
      assertThat(after.get("predictors").get("cancer").get("servingVersion").asLong()).isEqualTo(2);
      JsonNode healthAfter = get(http, base + "/health");
      assertThat(healthAfter.get("details").get("mlops-cancer").get("status").asText())
          .isEqualTo("UP");
      assertThat(
              healthAfter
                  .get("details")
                  .get("mlops-cancer")
                  .get("details")
                  .get("servingVersion")
                  .asLong())
          .isEqualTo(2);
      // Three moves by the endpoint's caller (no principal here: anonymous), after the seed's one.
      assertThat(
              server
                  .getApplicationContext()
                  .getBean(dev.mlops.runtime.registry.GovernedRegistry.class)
                  .aliasHistory("cancer", "production"))
          .extracting(a -> a.actor() + ":" + a.toVersion())
          .containsExactly("ci-pipeline:1", "anonymous:2", "anonymous:1", "anonymous:2");
    }
  }

  private static JsonNode get(HttpClient http, String url) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", url, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static JsonNode post(HttpClient http, String url, String body) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("POST %s: %s", url, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }
}
