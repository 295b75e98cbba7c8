package dev.mlops.cli;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ManifestSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Tensor;
import dev.mlops.runtime.loading.TensorIo;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.VerifiedArtifact;
import dev.mlops.runtime.security.ExternalDataGuard;
import dev.mlops.runtime.security.Manifest;
import dev.mlops.runtime.security.TrustedKeys;
import dev.mlops.runtime.validation.ChildJvmValidator;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code verify}: re-check a stored version end to end. */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Re-check a version: re-hash every file against the digests recorded at registration,"
          + " check its manifest signature (against --trusted-key), scan the model's external-data"
          + " references, and open and warm it up in a child JVM, so that a model that crashes"
          + " ONNX Runtime takes down a throw-away process. Exit code 1 when a check fails."
    },
    footer = {
      "",
      "Example:",
      "  mlops verify cancer@production --trusted-key release=release.pub.pem --json"
    })
final class VerifyCommand extends Base {

  @Parameters(paramLabel = "REF", description = "The version: cancer/3, cancer@production.")
  String ref;

  @Option(
      names = "--trusted-key",
      paramLabel = "KEYID=PEM",
      description = "A trusted PEM public key (repeatable); a signature is then checked.")
  Map<String, Path> trustedKeys = new LinkedHashMap<>();

  @Option(names = "--require-signature", description = "Fail when the version is not signed.")
  boolean requireSignature;

  @Option(names = "--no-trial-load", description = "Skip the trial load in a child JVM.")
  boolean noTrialLoad;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      description = "How long the child JVM may run (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds = 120;

  @Option(names = "--json", description = "One JSON object: {ref, ok, checks: [...]}.")
  boolean json;

  private final List<Map<String, Object>> checks = new ArrayList<>();
  private String firstFailure;

  private void record(String check, String result, String detail) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("check", check);
    m.put("result", result);
    m.put("detail", detail);
    checks.add(m);
    if (result.equals("FAILED") && firstFailure == null) {
      firstFailure = check + ": " + detail;
    }
  }

  @Override
  int run(GovernedRegistry registry) throws IOException {
    ModelVersion v = registry.get(ref(ref));
    try (VerifiedArtifact artifact = verified(registry, v)) {
      signature(registry, v);
      if (artifact == null) {
        record("external-data", "SKIPPED", "the files did not verify");
        record("trial-load", "SKIPPED", "the files did not verify");
      } else {
        boolean scanned = externalData(v, artifact);
        if (noTrialLoad) {
          record("trial-load", "SKIPPED", "--no-trial-load");
        } else if (!scanned) {
          record("trial-load", "SKIPPED", "the external-data scan refused the model");
        } else {
          trialLoad(registry, v, artifact);
        }
      }
    }
    boolean ok = firstFailure == null;
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ref", v.ref().toString());
      m.put("ok", ok);
      m.put("checks", checks);
      Output.json(out(), m);
    } else {
      out().println("verify " + v.ref() + ": " + (ok ? "OK" : "FAILED"));
      List<List<String>> rows = new ArrayList<>();
      for (Map<String, Object> c : checks) {
        rows.add(
            List.of("  " + c.get("check"), (String) c.get("result"), (String) c.get("detail")));
      }
      Output.table(out(), List.of("  CHECK", "RESULT", "DETAIL"), rows);
    }
    out().flush();
    if (!ok) {
      throw new CliException("verify " + v.ref() + " failed: " + firstFailure);
    }
    return 0;
  }

  private VerifiedArtifact verified(GovernedRegistry registry, ModelVersion v) {
    try {
      VerifiedArtifact a = registry.verifiedArtifact(v);
      long bytes = v.files().stream().mapToLong(ArtifactFile::size).sum();
      record(
          "digest",
          "OK",
          v.files().size()
              + " file(s), "
              + bytes
              + " bytes re-hashed; manifest sha256 "
              + v.digest());
      return a;
    } catch (dev.mlops.api.MlopsException e) {
      record("digest", "FAILED", Errors.flatten(e.getMessage()));
      return null;
    }
  }

  private void signature(GovernedRegistry registry, ModelVersion v) {
    Optional<ManifestSignature> sig = registry.manifestSignature(v);
    if (sig.isEmpty()) {
      record(
          "signature",
          requireSignature ? "FAILED" : "NONE",
          "the version is not signed" + (requireSignature ? " and --require-signature" : ""));
      return;
    }
    ManifestSignature s = sig.get();
    if (trustedKeys.isEmpty()) {
      record(
          "signature",
          requireSignature ? "FAILED" : "UNCHECKED",
          "signed with key '"
              + s.keyId()
              + "' ("
              + s.algorithm()
              + "); give --trusted-key "
              + s.keyId()
              + "=PUBLIC.pem to check it");
      return;
    }
    try {
      TrustedKeys.Builder keys = TrustedKeys.builder();
      trustedKeys.forEach(keys::addPem);
      keys.build().verify(Manifest.of(v), s, v.ref().toString());
      record(
          "signature", "OK", "signed with trusted key '" + s.keyId() + "' (" + s.algorithm() + ")");
    } catch (dev.mlops.api.MlopsException | IllegalArgumentException e) {
      record("signature", "FAILED", Errors.flatten(e.getMessage()));
    }
  }

  private boolean externalData(ModelVersion v, VerifiedArtifact artifact) {
    try {
      List<ExternalDataGuard.Reference> refs =
          ExternalDataGuard.check(
              artifact.location(), v.files().stream().map(ArtifactFile::path).toList());
      record(
          "external-data",
          "OK",
          refs.isEmpty()
              ? "no external data"
              : refs.size() + " reference(s), all to files of the version");
      return true;
    } catch (dev.mlops.api.MlopsException e) {
      record("external-data", "FAILED", Errors.flatten(e.getMessage()));
      return false;
    }
  }

  /**
   * This JVM's class path, kept short for the child's command line: ONNX Runtime 1.29 crashes the
   * JVM when the command line reaches about 4 KB. From the executable jar it is one path; from a
   * long class path (an IDE, {@code exec:java}) it becomes a jar whose manifest lists the entries.
   */
  static String shortClassPath(Path scratch) throws IOException {
    String cp = System.getProperty("java.class.path");
    if (cp.length() < 1024) {
      return cp;
    }
    StringBuilder entries = new StringBuilder();
    for (String e : cp.split(java.io.File.pathSeparator)) {
      if (!e.isEmpty()) {
        Path p = Path.of(e).toAbsolutePath();
        entries.append(entries.length() == 0 ? "" : " ").append(p.toUri().toURL().toExternalForm());
      }
    }
    java.util.jar.Manifest manifest = new java.util.jar.Manifest();
    manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, entries.toString());
    Path jar = scratch.resolve("classpath.jar");
    try (OutputStream os = Files.newOutputStream(jar);
        java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(os, manifest)) {
      out.finish(); // the manifest is all it holds
    }
    return jar.toString();
  }

  private void trialLoad(GovernedRegistry registry, ModelVersion v, VerifiedArtifact artifact)
      throws IOException {
    Path scratch = Files.createTempDirectory("mlops-verify-");
    try {
      Optional<Map<String, Tensor>> example = registry.inputExample(v);
      Optional<Path> exampleFile = Optional.empty();
      if (example.isPresent()) {
        Path f = scratch.resolve("example.bin");
        try (OutputStream os = Files.newOutputStream(f);
            DataOutputStream out = new DataOutputStream(os)) {
          TensorIo.write(out, example.get());
        }
        exampleFile = Optional.of(f);
      }
      long start = System.nanoTime();
      ChildJvmValidator.builder()
          .timeout(Duration.ofSeconds(timeoutSeconds))
          .classpath(shortClassPath(scratch))
          .build()
          .validate(artifact.location(), exampleFile);
      long ms = (System.nanoTime() - start) / 1_000_000;
      record(
          "trial-load",
          "OK",
          "opened"
              + (example.isPresent() ? " and ran the input example" : " and warmed up")
              + " in a child JVM in "
              + ms
              + " ms");
    } catch (dev.mlops.api.MlopsException e) {
      record("trial-load", "FAILED", Errors.flatten(e.getMessage()));
    } finally {
      try (var walk = Files.walk(scratch)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
