package dev.mlops.samples.springboot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The service in a process of its own, stopped by SIGTERM while 8 clients call it: the JVM exits
 * through Spring's shutdown (graceful web shutdown, then the mlops runtime) while ONNX Runtime's
 * own shutdown hook runs concurrently, and nothing crashes.
 */
class ShutdownUnderLoadIT {

  private static final Pattern PORT = Pattern.compile("Tomcat started on port (\\d+)");

  @Test
  void sigtermUnderLoadExitsCleanly() throws Exception {
    Path registry = Files.createTempDirectory("mlops-sample-sigterm-").resolve("registry");
    PredictionService.seedIfEmpty(registry);
    Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb =
        new ProcessBuilder(
                javaBin.toString(),
                "dev.mlops.samples.springboot.PredictionService",
                "--server.port=0")
            .redirectErrorStream(true);
    // The class path in the environment: ONNX Runtime 1.29 crashes on a long command line.
    pb.environment().put("CLASSPATH", System.getProperty("java.class.path"));
    pb.environment().put("MLOPS_REGISTRY", registry.toString());
    Process p = pb.start();
    List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.CompletableFuture<Integer> port =
        new java.util.concurrent.CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  lines.add(line);
                  Matcher m = PORT.matcher(line);
                  if (m.find()) {
                    port.complete(Integer.parseInt(m.group(1)));
                  }
                }
              } catch (java.io.IOException e) {
                port.completeExceptionally(e);
              }
            },
            "service-output");
    reader.start();
    try {
      String base = "http://localhost:" + port.get(120, TimeUnit.SECONDS);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      float[] row = dev.mlops.testmodels.TestModels.breastCancerTestSet().features()[0];
      StringBuilder body = new StringBuilder("{\"features\":[");
      for (int i = 0; i < row.length; i++) {
        body.append(i == 0 ? "" : ",").append(row[i]);
      }
      String json = body.append("]}").toString();
      LongAdder ok = new LongAdder();
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < 8; c++) {
        Thread t =
            new Thread(
                () -> {
                  while (p.isAlive()) {
                    try {
                      HttpResponse<String> r =
                          http.send(
                              HttpRequest.newBuilder(URI.create(base + "/predict"))
                                  .header("Content-Type", "application/json")
                                  .timeout(Duration.ofSeconds(5))
                                  .POST(HttpRequest.BodyPublishers.ofString(json))
                                  .build(),
                              HttpResponse.BodyHandlers.ofString());
                      if (r.statusCode() == 200) {
                        ok.increment();
                      }
                    } catch (Exception e) {
                      // refused once the server stops taking requests: expected here
                    }
                  }
                });
        t.start();
        clients.add(t);
      }
      long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (ok.sum() < 500 && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      // SIGTERM, as an orchestrator stops a container (Process.destroy() closes the pipes first).
      new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).inheritIO().start().waitFor();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      for (Thread t : clients) {
        t.join();
      }
      reader.join(10_000);
      int exit = p.exitValue();
      String out = String.join("\n", lines);
      System.out.printf("served %d calls before SIGTERM; exit code %d%n", ok.sum(), exit);
      lines.stream()
          .filter(l -> l.contains("shutdown") || l.contains("mlops runtime closed"))
          .forEach(System.out::println);
      assertThat(ok.sum()).isGreaterThanOrEqualTo(500);
      assertThat(exit).as(out).isEqualTo(143);
      assertThat(out).contains("Commencing graceful shutdown").contains("mlops runtime closed");
      assertThat(out.indexOf("mlops runtime closed"))
          .isGreaterThan(out.indexOf("Commencing graceful shutdown"));
      assertThat(out).doesNotContain("SIGSEGV").doesNotContain("A fatal error");
    } finally {
      p.destroyForcibly();
    }
  }
}
