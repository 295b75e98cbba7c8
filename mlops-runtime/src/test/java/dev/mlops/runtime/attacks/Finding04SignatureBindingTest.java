package dev.mlops.runtime.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.RegistryException;
import dev.mlops.api.SignatureException;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.security.ManifestSigner;
import dev.mlops.runtime.security.SignaturePolicy;
import dev.mlops.runtime.security.TrustedKeys;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.testmodels.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under {@link SignaturePolicy#ENFORCE} the signature binds what is served: the entry point, the
 * model and the version (through its REGISTER entry, in a hash-chained audit log). Edited metadata,
 * a rollback copy, a cross-model copy, a file name that forges manifest lines, and an edited or
 * shortened audit log are each refused with a typed error before anything is served. The detailed
 * cases are in {@code SignedRegistrationTest} and {@code ManifestTest}.
 */
class Finding04SignatureBindingTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "release");

  @TempDir Path tmp;
  private Decoys decoys;
  private Path root;
  private ManifestSigner signer;
  private TrustedKeys trusted;
  private Path v1;
  private Path v2;

  @BeforeEach
  void keys() throws Exception {
    decoys = Decoys.in(tmp.resolve("outside"));
    root = tmp.resolve("reg");
    KeyPair ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    signer = ManifestSigner.of("release", ed.getPrivate());
    trusted = TrustedKeys.builder().add("release", ed.getPublic()).build();
    v1 = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("m1"));
    v2 = TestModels.copy(TestModels.BREAST_CANCER_V2, tmp.resolve("m2"));
  }

  @AfterEach
  void untouched() {
    decoys.assertUntouched();
  }

  private GovernedRegistry open() {
    return LocalModelRegistry.builder(root)
        .signaturePolicy(SignaturePolicy.ENFORCE)
        .trustedKeys(trusted)
        .build();
  }

  private ModelVersion register(GovernedRegistry r, String model, ArtifactSource source) {
    return r.register(
        Registration.builder(model, source).manifestSignature(signer.sign(model, source)).build(),
        CI);
  }

  private Path versionDir(String model, long version) {
    return root.resolve("models").resolve(model).resolve(Long.toString(version));
  }

  private static void copyDir(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(to)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }

  private static void edit(Path file, String regex, String replacement) throws Exception {
    String before = Files.readString(file);
    String after = before.replaceFirst(regex, replacement);
    assertThat(after).as("edit of %s", file).isNotEqualTo(before);
    Files.writeString(file, after);
  }

  @Test
  void editedEntryPointFailsTheSignature() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("two"));
    Files.copy(v1, dir.resolve("a.onnx"));
    Files.copy(v2, dir.resolve("b.onnx"));
    try (GovernedRegistry r = open()) {
      register(r, "cancer", ArtifactSource.directory(dir, "a.onnx"));
    }
    edit(versionDir("cancer", 1).resolve("version.json"), "\"a\\.onnx\"", "\"b.onnx\"");
    try (GovernedRegistry r = open();
        Mlops mlops = Mlops.builder().registry(r).build()) {
      assertThatThrownBy(() -> mlops.predictor("models:/cancer/1", Codecs.floatRow()))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("does not match its manifest");
    }
  }

  @Test
  void olderVersionCopiedOverANewerOneIsRefused() throws Exception {
    try (GovernedRegistry r = open()) {
      register(r, "cancer", ArtifactSource.file(v1));
      register(r, "cancer", ArtifactSource.file(v2));
    }
    copyDir(versionDir("cancer", 1), versionDir("cancer", 2));
    edit(versionDir("cancer", 2).resolve("version.json"), "(\"version\"\\s*:\\s*)1\\b", "$12");
    try (GovernedRegistry r = open()) {
      ModelVersion forged = r.versions("cancer").get(1);
      assertThat(forged.version()).isEqualTo(2);
      assertThatThrownBy(() -> r.verifiedArtifact(forged).close())
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("are not the ones registered as that version");
      // Version 1 still serves.
      r.verifiedArtifact(r.versions("cancer").get(0)).close();
    }
  }

  @Test
  void versionCopiedIntoAnotherModelIsRefused() throws Exception {
    try (GovernedRegistry r = open()) {
      register(r, "fraud", ArtifactSource.file(v1));
      register(r, "other", ArtifactSource.file(v2));
    }
    copyDir(versionDir("fraud", 1), versionDir("other", 2));
    edit(versionDir("other", 2).resolve("version.json"), "\"fraud\"", "\"other\"");
    edit(versionDir("other", 2).resolve("version.json"), "(\"version\"\\s*:\\s*)1\\b", "$12");
    try (GovernedRegistry r = open();
        Mlops mlops = Mlops.builder().registry(r).build()) {
      assertThatThrownBy(() -> mlops.predictor("models:/other/2", Codecs.floatRow()))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("does not match its manifest");
      try (Predictor<float[], float[]> p = mlops.predictor("models:/other/1", Codecs.floatRow())) {
        assertThat(p.predict(TestModels.breastCancerTestSet().features()[0]).version())
            .isEqualTo(1);
      }
    }
  }

  @Test
  void fileNameForgingManifestLinesIsRefused() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("posing"));
    Files.copy(v1, dir.resolve("a.onnx"));
    Files.writeString(dir.resolve("a.onnx\t" + "0".repeat(64) + "\nb.bin"), "weights");
    try (GovernedRegistry r = open()) {
      assertThatThrownBy(() -> register(r, "cancer", ArtifactSource.directory(dir, "a.onnx")))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("control character");
      assertThat(r.models()).isEmpty();
    }
  }

  @Test
  void editedAuditLogIsDetected() throws Exception {
    try (GovernedRegistry r = open()) {
      register(r, "cancer", ArtifactSource.file(v1));
      register(r, "cancer", ArtifactSource.file(v2));
      r.setAlias("cancer", "production", 2, CI);
    }
    Path log = root.resolve("audit.log");
    edit(log, "\"actor\"\\s*:\\s*\"ci\"", "\"actor\":\"someone-else\"");
    try (GovernedRegistry r = open()) {
      assertThatThrownBy(r::auditLog)
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("was tampered with at line 2");
      // Verification reads the REGISTER entries, so nothing loads from a tampered log.
      assertThatThrownBy(() -> r.verifiedArtifact(r.versions("cancer").get(0)).close())
          .isInstanceOf(RegistryException.class);
    }
  }

  @Test
  void entriesRemovedFromTheEndOfTheAuditLogAreDetectedByAProcessThatSawThem() throws Exception {
    try (GovernedRegistry r = open()) {
      register(r, "cancer", ArtifactSource.file(v1));
      r.setAlias("cancer", "production", 1, CI);
      assertThat(r.auditLog()).hasSize(2);

      Path log = root.resolve("audit.log");
      byte[] bytes = Files.readAllBytes(log);
      String text = new String(bytes, StandardCharsets.UTF_8);
      int cut = text.lastIndexOf('\n', text.length() - 2) + 1;
      Files.write(log, Arrays.copyOf(bytes, cut));

      assertThatThrownBy(r::auditLog)
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("entries were removed");
    }
  }
}
