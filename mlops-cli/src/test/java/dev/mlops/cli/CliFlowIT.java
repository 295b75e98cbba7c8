package dev.mlops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.Json;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data scientist's whole flow with the real {@code mlops} jar, run as processes through {@code
 * bin/mlops}, on a real registry directory and on a real PostgreSQL: register v1 and promote it; an
 * incompatible v2 is refused; a compatible v3 from an MLflow model directory is promoted; roll
 * back; predict from JSON; a tampered version fails verification; the audit log read as JSON.
 */
class CliFlowIT {

  private static final String RUN_ID = "8c3e6f2b1a9d4e7f9b0c2d4e6f8a1b3c";

  @TempDir Path work;

  @org.junit.jupiter.api.BeforeEach
  void onThePackagedJar() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        System.getProperty("mlops.jar") != null,
        "runs in failsafe's integration-test phase, on the jar the package phase built");
  }

  @Test
  void dataScientistFlowOnADirectory() throws Exception {
    Path registry = work.resolve("registry");
    CliProcess cli = new CliProcess(registry.toString(), work);
    flow(
        cli,
        digest -> {
          Path file = registry.resolve("artifacts").resolve(digest).resolve("model.onnx");
          assertThat(file).isRegularFile();
          byte[] bytes = Files.readAllBytes(file);
          bytes[100] ^= 0x5a;
          Files.write(file, bytes);
          return bytes;
        },
        (digest, expected, found) ->
            "file model.onnx of models:/cancer/3 has changed since registration: expected sha256 "
                + expected
                + " but found "
                + found);

    // Aliases by hand, archive and delete.
    CliProcess.Result r = ok(cli, "alias", "cas", "cancer", "champion", "0", "4");
    assertThat(r.out()).isEqualTo("set cancer@champion: (none) -> v4\n");
    r = cli.run("alias", "cas", "cancer", "champion", "1", "1");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.errLines())
        .containsExactly(
            "error: ConflictException: alias 'champion' of model 'cancer' points at version 4 but"
                + " the change expected version 1; re-read the alias and retry");
    r = ok(cli, "alias", "delete", "cancer", "champion");
    assertThat(r.out()).isEqualTo("deleted cancer@champion: v4 -> (none)\n");
    r = ok(cli, "archive", "cancer", "2", "-m", "incompatible inputs");
    assertThat(r.out()).isEqualTo("archived models:/cancer/2\n");
    r = ok(cli, "delete", "cancer", "2");
    assertThat(r.out()).isEqualTo("deleted models:/cancer/2\n");
    r = cli.run("delete", "cancer", "4");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.errLines())
        .containsExactly(
            "error: ConflictException: cannot delete models:/cancer/4: aliases [production] point"
                + " at it; move or delete them first");
    r = ok(cli, "models", "--json");
    assertThat(entries(r.out()))
        .containsExactly(
            Map.of(
                "model",
                "cancer",
                "versions",
                3L,
                "latest",
                4L,
                "aliases",
                Map.of("production", 4L)));

    // A usage error is exit code 2 and one line, without opening the registry.
    CliProcess.Result usage = cli.run("promote", "cancer");
    assertThat(usage.exit()).as(usage.toString()).isEqualTo(2);
    assertThat(usage.errLines())
        .containsExactly(
            "error: Missing required parameter: 'VERSION' (see 'mlops promote --help')");

    // The completion script the build generated completes the commands.
    Path completion = Path.of(System.getProperty("mlops.completion"));
    assertThat(Files.readString(completion))
        .contains("complete -F _complete_mlops")
        .contains("register")
        .contains("rollback")
        .contains("rollout");
  }

  @Test
  void dataScientistFlowOnPostgresql() throws Exception {
    String uri = TestPostgres.newRegistry("cli_flow");
    CliProcess cli = new CliProcess(uri, work);
    flow(
        cli,
        digest -> {
          // Change one byte of the stored model behind the registry's back.
          int rows =
              TestPostgres.execute(
                  uri,
                  "UPDATE artifact_chunks SET bytes = overlay(bytes placing"
                      + " decode(lpad(to_hex(get_byte(bytes, 100) # 90), 2, '0'), 'hex')"
                      + " from 101 for 1) WHERE digest = ? AND path = 'model.onnx' AND seq = 0",
                  digest);
          assertThat(rows).isEqualTo(1);
          byte[] bytes = TestModels.bytes(TestModels.BREAST_CANCER_V2);
          bytes[100] ^= 0x5a;
          return bytes;
        },
        // The verifying artifact cache refuses the bytes as the database sends them.
        (digest, expected, found) ->
            "file model.onnx of artifact "
                + digest
                + " does not match its record: expected sha256 "
                + expected
                + " (7763 bytes) but the store sent sha256 "
                + found
                + " (7763 bytes); nothing of it was cached");
  }

  /** Changes the stored model file of the version with this manifest digest; returns its bytes. */
  interface Tamper {
    byte[] apply(String digest) throws Exception;
  }

  /** The registry's message for a tampered model file. */
  interface TamperMessage {
    String of(String digest, String expectedSha, String foundSha);
  }

  private void flow(CliProcess cli, Tamper tamper, TamperMessage message) throws Exception {
    Path v1 = TestModels.copy(TestModels.BREAST_CANCER_V1, work.resolve("v1"));
    Path v2 = TestModels.copy(TestModels.TINY, work.resolve("v2"));
    Path mlflow = mlflowFixture();
    java.security.KeyPair keys =
        java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Path privatePem =
        pem(work.resolve("release.pem"), "PRIVATE KEY", keys.getPrivate().getEncoded());
    Path publicPem =
        pem(work.resolve("release.pub.pem"), "PUBLIC KEY", keys.getPublic().getEncoded());

    // 1. register v1 with its lineage, and promote it
    CliProcess.Result r =
        ok(
            cli,
            "register",
            "cancer",
            v1.toString(),
            "-d",
            "logistic regression",
            "--run-id",
            "run-logreg",
            "--dataset",
            "wisconsin-2026-11",
            "--metric",
            "accuracy=0.979",
            "--tag",
            "team=risk",
            "--sign-key",
            "release=" + privatePem,
            "--progress",
            "always",
            "-m",
            "nightly");
    assertThat(r.out())
        .startsWith("registered models:/cancer/1  sha256 6dbfa81ddb21f1fa  features:float32[?,30]");
    assertThat(r.err())
        .endsWith(
            "\rcopying breast-cancer-v1.onnx [##############################] 100% 1.4 KiB / 1.4"
                + " KiB\n");
    r = ok(cli, "promote", "cancer", "1", "-m", "first release");
    assertThat(r.out()).isEqualTo("promoted cancer@production: (none) -> v1\n");

    // 2. an incompatible v2: the promotion is refused, exit 1, the differences named
    r = ok(cli, "register", "cancer", v2.toString(), "--run-id", "run-tiny");
    assertThat(r.out()).startsWith("registered models:/cancer/2  ");
    r = cli.run("promote", "cancer", "2", "-m", "try it");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0))
        .startsWith(
            "error: IncompatibleSignatureException: refusing to point models:/cancer@production at"
                + " version 2: its signature is incompatible with version 1")
        .contains("input 'features' (float32[?,30]) is gone")
        .contains("input 'x' (float32[?,4]) is new")
        .contains("output 'probabilities' (float32[?,2]) is gone");

    // 3. a compatible v3 from an MLflow model directory, promoted
    r =
        ok(
            cli,
            "register",
            "cancer",
            "--from-mlflow",
            mlflow.toString(),
            "--metric",
            "accuracy=0.986");
    assertThat(r.out()).startsWith("registered models:/cancer/3  ");
    r = ok(cli, "promote", "cancer", "3", "-m", "more accurate");
    assertThat(r.out()).isEqualTo("promoted cancer@production: v1 -> v3\n");

    r = ok(cli, "versions", "cancer", "--json");
    assertThat(entries(r.out()).stream().map(e -> e.get("version") + " " + e.get("aliases")))
        .containsExactly("1 []", "2 []", "3 [production]");

    r = ok(cli, "show", "cancer@production", "--json");
    Map<String, Object> v3 = Json.parseObject(r.out().strip());
    assertThat(v3.get("version")).isEqualTo(3L);
    assertThat(v3.get("aliases")).isEqualTo(List.of("production"));
    assertThat(v3.get("modelFile")).isEqualTo("model.onnx");
    assertThat(v3.get("hasInputExample")).isEqualTo(true);
    assertThat(v3.get("description")).isEqualTo("MLflow model of run " + RUN_ID);
    assertThat(v3.get("lineage"))
        .isEqualTo(Map.of("runId", RUN_ID, "dataset", "", "metrics", Map.of("accuracy", 0.986)));
    @SuppressWarnings("unchecked")
    Map<String, Object> tags = (Map<String, Object>) v3.get("tags");
    assertThat(tags)
        .containsEntry("mlflow.flavor", "onnx")
        .containsEntry("mlflow.model_uuid", "5d1b1b9d6f0a4a3c8c5f0f3c2a9e7b41")
        .containsEntry("mlflow.version", "2.17.2");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> files = (List<Map<String, Object>>) v3.get("files");
    assertThat(files.stream().map(f -> f.get("path")))
        .containsExactly(
            "MLmodel",
            "conda.yaml",
            "input_example.json",
            "model.onnx",
            "python_env.yaml",
            "requirements.txt");
    String modelSha = sha256(TestModels.bytes(TestModels.BREAST_CANCER_V2));
    assertThat(files.get(3).get("sha256")).isEqualTo(modelSha);

    r = ok(cli, "diff", "cancer/1", "cancer/3", "--json");
    Map<String, Object> diff = Json.parseObject(r.out().strip());
    @SuppressWarnings("unchecked")
    Map<String, Object> sig = (Map<String, Object>) diff.get("signature");
    assertThat(sig.get("compatible")).isEqualTo(true);
    assertThat(sig.get("differences")).isEqualTo(List.of());
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> metrics = (List<Map<String, Object>>) diff.get("metrics");
    assertThat(metrics).hasSize(1);
    assertThat((Double) metrics.get(0).get("delta")).isCloseTo(0.007, within());

    // 4. roll back: production returns to v1, its previous target
    r = ok(cli, "rollback", "cancer", "-m", "p99 regression");
    assertThat(r.out()).isEqualTo("rolled back cancer@production: v3 -> v1\n");

    // 5. predict from JSON on the alias: v1 answers, exactly as ONNX Runtime does in-process
    TestSet test = TestModels.breastCancerTestSet();
    int n = 5;
    List<Object> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Object> row = new ArrayList<>();
      for (float f : test.features()[i]) {
        row.add((double) f);
      }
      rows.add(row);
    }
    r = cli.runWithInput(Json.write(rows), "predict", "cancer@production");
    assertThat(r.exit()).as(r.toString()).isZero();
    Map<String, Object> prediction = Json.parseObject(r.out().strip());
    assertThat(prediction.get("model")).isEqualTo("cancer");
    assertThat(prediction.get("version")).isEqualTo(1L);
    Map<String, Tensor> expected = inProcess(v1, test, n);
    @SuppressWarnings("unchecked")
    Map<String, Object> outputs = (Map<String, Object>) prediction.get("outputs");
    List<Long> labels = new ArrayList<>();
    for (long l : expected.get("label").longs()) {
      labels.add(l);
    }
    assertThat(outputs.get("label")).isEqualTo(labels);
    @SuppressWarnings("unchecked")
    List<List<Double>> probabilities = (List<List<Double>>) outputs.get("probabilities");
    float[] p = expected.get("probabilities").floats();
    assertThat(probabilities).hasSize(n);
    for (int i = 0; i < n; i++) {
      assertThat(probabilities.get(i).get(0).floatValue()).isEqualTo(p[2 * i]);
      assertThat(probabilities.get(i).get(1).floatValue()).isEqualTo(p[2 * i + 1]);
    }

    // 6. verify: v1 passes every check, a child JVM included; a tampered v3 fails with the message
    r = ok(cli, "verify", "cancer/1", "--trusted-key", "release=" + publicPem);
    assertThat(r.out()).startsWith("verify models:/cancer/1: OK\n");
    assertThat(r.out())
        .containsPattern("signature +OK +signed with trusted key 'release' \\(Ed25519\\)");
    assertThat(r.out()).containsPattern("trial-load +OK +opened and warmed up in a child JVM");
    byte[] tampered = tamper.apply((String) v3.get("digest"));
    r = cli.run("verify", "cancer/3");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).startsWith("verify models:/cancer/3: FAILED\n");
    assertThat(r.errLines())
        .containsExactly(
            "error: verify models:/cancer/3 failed: digest: "
                + message.of((String) v3.get("digest"), modelSha, sha256(tampered)));

    // 7. the audit log as JSON
    r = ok(cli, "audit", "--model", "cancer", "--json");
    List<Map<String, Object>> audit = entries(r.out());
    assertThat(audit.stream().map(e -> e.get("action") + " " + e.get("actor")))
        .containsExactly(
            "REGISTER alice",
            "SET_ALIAS alice",
            "REGISTER alice",
            "REGISTER alice",
            "SET_ALIAS alice",
            "SET_ALIAS alice",
            "VERIFICATION_FAILED mlops");
    r = ok(cli, "audit", "--who", "alice", "--action", "SET_ALIAS", "--since", "1h", "--json");
    List<Map<String, Object>> moves = entries(r.out());
    assertThat(moves.stream().map(e -> e.get("details").toString() + " " + e.get("reason")))
        .containsExactly(
            "{alias=production, from=, to=1} first release",
            "{alias=production, from=1, to=3} more accurate",
            "{alias=production, from=3, to=1} p99 regression");

    // 8. the tampered v3 cannot be rolled out; a v4 is, paused, then promoted
    r = cli.run("rollout", "start", "cancer", "3", "--weight", "10");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0))
        .startsWith(
            "error: ModelLoadException: refusing to point an alias at models:/cancer/3, which"
                + " cannot be loaded: file model.onnx of ");
    Path v4 = TestModels.copy(TestModels.BREAST_CANCER_V2, work.resolve("v4"));
    r = ok(cli, "register", "cancer", v4.toString(), "--run-id", "run-mlp-retrain");
    assertThat(r.out()).startsWith("registered models:/cancer/4  sha256 15560ee602ebdff6  ");
    r =
        ok(
            cli,
            "rollout",
            "start",
            "cancer",
            "4",
            "--weight",
            "10",
            "--shadow",
            "50",
            "--json",
            "-m",
            "canary");
    Map<String, Object> rollout = Json.parseObject(r.out().strip());
    assertThat(rollout)
        .containsEntry("state", "RUNNING")
        .containsEntry("stable", 1L)
        .containsEntry("candidate", 4L)
        .containsEntry("weightPercent", 10.0)
        .containsEntry("shadowPercent", 50.0);
    ok(cli, "rollout", "pause", "cancer", "-m", "hold");
    r = ok(cli, "rollout", "status", "cancer", "--json");
    assertThat(Json.parseObject(r.out().strip()))
        .containsEntry("id", rollout.get("id"))
        .containsEntry("state", "PAUSED")
        .containsEntry("weightPercent", 10.0);
    r = ok(cli, "rollout", "promote", "cancer", "-m", "canary healthy");
    assertThat(r.out())
        .isEqualTo(
            "rollout "
                + rollout.get("id")
                + " of cancer@production: PROMOTED, candidate v4 at 100.0 %, shadow 50.0 %, stable v1"
                + " (canary healthy)\n");
    r = ok(cli, "history", "cancer", "--alias", "production", "--json");
    assertThat(entries(r.out()).stream().map(e -> e.get("from") + "->" + e.get("to")))
        .containsExactly("0->1", "1->3", "3->1", "1->4");
    System.out.println("CLI launches so far: " + CliProcess.LAUNCHES.get());
  }

  private static Path pem(Path file, String label, byte[] der) throws IOException {
    String b64 =
        java.util.Base64.getMimeEncoder(
                64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
            .encodeToString(der);
    Files.writeString(
        file, "-----BEGIN " + label + "-----\n" + b64 + "\n-----END " + label + "-----\n");
    return file;
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-9);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> entries(String json) {
    return (List<Map<String, Object>>) Json.parse(json.strip());
  }

  private static CliProcess.Result ok(CliProcess cli, String... args)
      throws IOException, InterruptedException {
    CliProcess.Result r = cli.run(args);
    assertThat(r.exit()).as("mlops " + String.join(" ", args) + ": " + r).isZero();
    return r;
  }

  /** The MLflow fixture with the real v2 classifier copied in as its model.onnx. */
  private Path mlflowFixture() throws IOException, URISyntaxException {
    Path src =
        Path.of(CliFlowIT.class.getResource("/mlflow/cancer-mlp/MLmodel").toURI()).getParent();
    Path dir = Files.createDirectories(work.resolve("mlflow-model"));
    try (Stream<Path> files = Files.list(src)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, dir.resolve(f.getFileName().toString()));
      }
    }
    Files.write(dir.resolve("model.onnx"), TestModels.bytes(TestModels.BREAST_CANCER_V2));
    return dir;
  }

  private static Map<String, Tensor> inProcess(Path model, TestSet test, int n) {
    float[] flat = new float[n * 30];
    for (int i = 0; i < n; i++) {
      System.arraycopy(test.features()[i], 0, flat, i * 30, 30);
    }
    try (OnnxRuntimeEngine engine = OnnxRuntimeEngine.builder().build();
        ModelSession s =
            engine.open(
                new ArtifactLocation(model.toAbsolutePath().getParent(), model.toAbsolutePath()))) {
      return s.run(Map.of("features", Tensor.ofFloats(flat, n, 30)));
    }
  }

  static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
