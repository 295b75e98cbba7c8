package dev.mlops.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.ManifestSignature;
import dev.mlops.api.SignatureException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Manifests, signing and verification with Ed25519 and ECDSA P-256, in Java and with openssl. */
class ManifestSignatureTest {

  @TempDir Path tmp;

  private static final String SHA_A = "a".repeat(64);
  private static final String SHA_B = "b".repeat(64);
  private static final Manifest MANIFEST =
      Manifest.of(
          "fraud",
          "model.onnx",
          List.of(
              new ArtifactFile("weights/w.bin", 12, SHA_B),
              new ArtifactFile("model.onnx", 100, SHA_A)));

  static KeyPair keyPair(String kind) throws Exception {
    if (kind.equals("Ed25519")) {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(kind.equals("P-256") ? "secp256r1" : "secp384r1"));
    return g.generateKeyPair();
  }

  @ParameterizedTest
  @ValueSource(strings = {"Ed25519", "P-256"})
  void signatureVerifiesWithTheTrustedKeyAndFailsForAnyOtherManifest(String kind) throws Exception {
    KeyPair kp = keyPair(kind);
    ManifestSignature sig = ManifestSigner.of("release", kp.getPrivate()).sign(MANIFEST);
    assertThat(sig.algorithm())
        .isEqualTo(
            kind.equals("Ed25519")
                ? ManifestSignature.ED25519
                : ManifestSignature.ECDSA_P256_SHA256);
    TrustedKeys keys = TrustedKeys.builder().add("release", kp.getPublic()).build();

    assertThatCode(() -> keys.verify(MANIFEST, sig, "m")).doesNotThrowAnyException();

    List<ArtifactFile> files =
        List.of(
            new ArtifactFile("model.onnx", 100, SHA_A),
            new ArtifactFile("weights/w.bin", 12, SHA_B));
    List<Manifest> others =
        List.of(
            Manifest.of(
                "fraud",
                "model.onnx",
                List.of(new ArtifactFile("model.onnx", 100, SHA_A))), // a file missing
            Manifest.of(
                "fraud",
                "model.onnx",
                List.of(
                    new ArtifactFile("model.onnx", 100, SHA_A),
                    new ArtifactFile("weights/w.bin", 12, SHA_B),
                    new ArtifactFile("extra.bin", 1, SHA_B))), // a file added
            Manifest.of(
                "fraud",
                "model.onnx",
                List.of(
                    new ArtifactFile("model.onnx", 100, SHA_B),
                    new ArtifactFile("weights/w.bin", 12, SHA_B))),
            Manifest.of(
                "fraud",
                "model.onnx",
                List.of(
                    new ArtifactFile("model.onnx", 100, SHA_A),
                    new ArtifactFile("weights/x.bin", 12, SHA_B))),
            Manifest.of("other", "model.onnx", files), // another model name
            Manifest.of("fraud", "weights/w.bin", files)); // another entry point
    for (Manifest other : others) {
      assertThatThrownBy(() -> keys.verify(other, sig, "models:/m/1"))
          .as(other.text())
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining(
              "the signature of models:/m/1 by key 'release' does not match its manifest");
    }
    byte[] flipped = sig.value();
    flipped[flipped.length / 2] ^= 1;
    assertThatThrownBy(
            () ->
                keys.verify(
                    MANIFEST, new ManifestSignature("release", sig.algorithm(), flipped), "m"))
        .isInstanceOf(SignatureException.class);
  }

  @Test
  void unknownKeyWrongKeyAndWrongAlgorithmAreRefusedNamingTheKey() throws Exception {
    KeyPair ed = keyPair("Ed25519");
    KeyPair ec = keyPair("P-256");
    ManifestSignature sig = ManifestSigner.of("ci", ed.getPrivate()).sign(MANIFEST);

    assertThatThrownBy(
            () ->
                TrustedKeys.builder()
                    .add("other", ed.getPublic())
                    .build()
                    .verify(MANIFEST, sig, "m"))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("key 'ci', which is not among the trusted keys [other]");
    assertThatThrownBy(() -> TrustedKeys.none().verify(MANIFEST, sig, "m"))
        .isInstanceOf(SignatureException.class);
    assertThatThrownBy(
            () ->
                TrustedKeys.builder()
                    .add("ci", keyPair("Ed25519").getPublic())
                    .build()
                    .verify(MANIFEST, sig, "m"))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("does not match");
    assertThatThrownBy(
            () ->
                TrustedKeys.builder().add("ci", ec.getPublic()).build().verify(MANIFEST, sig, "m"))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining(
            "is signed with Ed25519 but trusted key 'ci' is an SHA256withECDSA key");
    // Garbage where a DER signature belongs is refused as such, not a crash.
    ManifestSignature garbage =
        new ManifestSignature(
            "ec", ManifestSignature.ECDSA_P256_SHA256, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    assertThatThrownBy(
            () ->
                TrustedKeys.builder()
                    .add("ec", ec.getPublic())
                    .build()
                    .verify(MANIFEST, garbage, "m"))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("is not a DER-encoded ECDSA signature");
  }

  @Test
  void onlyEd25519AndP256KeysAreAccepted() throws Exception {
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    KeyPair p384 = keyPair("P-384");
    assertThatThrownBy(() -> ManifestSigner.of("k", rsa.getPrivate()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected an Ed25519 key or an EC key on the NIST P-256");
    assertThatThrownBy(() -> TrustedKeys.builder().add("k", rsa.getPublic()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ManifestSigner.of("k", p384.getPrivate()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("384-bit");
    assertThatThrownBy(() -> TrustedKeys.builder().add("k", p384.getPublic()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                TrustedKeys.builder()
                    .add("k", keyPair("P-256").getPublic())
                    .add("k", keyPair("P-256").getPublic()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already added");
    assertThatThrownBy(
            () -> new ManifestSignature("bad id", ManifestSignature.ED25519, new byte[64]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ManifestSignature("k", "SHA1withRSA", new byte[64]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not supported");
  }

  @ParameterizedTest
  @ValueSource(strings = {"Ed25519", "P-256"})
  void keysLoadFromPemFiles(String kind) throws Exception {
    KeyPair kp = keyPair(kind);
    Path pub =
        Files.writeString(tmp.resolve("pub.pem"), pem("PUBLIC KEY", kp.getPublic().getEncoded()));
    Path priv =
        Files.writeString(
            tmp.resolve("priv.pem"), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));

    ManifestSignature sig = ManifestSigner.fromPem("k", priv).sign(MANIFEST);
    TrustedKeys keys = TrustedKeys.builder().addPem("k", pub).build();
    assertThatCode(() -> keys.verify(MANIFEST, sig, "m")).doesNotThrowAnyException();
    assertThatThrownBy(() -> TrustedKeys.builder().addPem("k", "not a pem"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BEGIN PUBLIC KEY");
  }

  @Test
  void signatureValueRoundTripsThroughBase64AndIsCopied() {
    byte[] value = new byte[64];
    value[1] = 2;
    ManifestSignature s = new ManifestSignature("k", ManifestSignature.ED25519, value);
    value[0] = 9;
    assertThat(s.value()[0]).isZero();
    s.value()[1] = 9;
    assertThat(s.value()[1]).isEqualTo((byte) 2);
    assertThat(ManifestSignature.ofBase64("k", ManifestSignature.ED25519, s.valueBase64()))
        .isEqualTo(s);
  }

  @Test
  void manifestOfASourceListsWhatTheRegistryWillRecord() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("d/sub"));
    Files.write(dir.resolve("w.bin"), new byte[] {1, 2});
    Files.write(tmp.resolve("d/model.onnx"), new byte[] {3});
    Manifest m = Manifest.of("fraud", ArtifactSource.directory(tmp.resolve("d"), "model.onnx"));
    assertThat(m.paths()).containsExactly("model.onnx", "sub/w.bin");
    assertThat(m.model()).isEqualTo("fraud");
    assertThat(m.entryPoint()).isEqualTo("model.onnx");
    assertThat(m.files().get(1).size()).isEqualTo(2);
    Manifest single = Manifest.of("fraud", ArtifactSource.file(tmp.resolve("d/model.onnx")));
    assertThat(single.paths()).containsExactly("model.onnx");
    assertThat(single.entryPoint()).isEqualTo("model.onnx");
    assertThat(Manifest.of("fraud", ArtifactSource.directory(tmp.resolve("d"), "sub/w.bin")))
        .isNotEqualTo(m);
    assertThatThrownBy(
            () -> Manifest.of("fraud", ArtifactSource.directory(tmp.resolve("d"), "absent.onnx")))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("the entry point 'absent.onnx' of model 'fraud' is not among");
    assertThatThrownBy(
            () ->
                Manifest.of(
                    "fraud",
                    ArtifactSource.stream(new java.io.ByteArrayInputStream(new byte[1]), "m.onnx")))
        .isInstanceOf(IllegalArgumentException.class);
    Files.createSymbolicLink(tmp.resolve("d/link"), dir);
    assertThatThrownBy(
            () -> Manifest.of("fraud", ArtifactSource.directory(tmp.resolve("d"), "model.onnx")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("symbolic link");
  }

  /**
   * The recipe of SECURITY.md, read from SECURITY.md and run as written there: the manifest made
   * with find/sort/sha256sum is byte for byte the one Java computes, the signature made with
   * openssl verifies in Java, and the registry registers and serves the directory under ENFORCE.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ed25519", "p256"})
  void signatureMadeWithOpensslAsSecurityMdShowsVerifiesAndRegisters(String kind) throws Exception {
    assumeTrue(
        onPath("openssl") && onPath("sha256sum") && onPath("bash"),
        "openssl, sha256sum and bash are needed");
    List<String> blocks = securityMdShellBlocks();
    assertThat(blocks).as("the sh blocks of 'With openssl' in SECURITY.md").hasSize(3);
    Path model = Files.createDirectories(tmp.resolve("model/data"));
    Files.write(
        tmp.resolve("model/model.onnx"),
        dev.mlops.runtime.onnx.ExternalDataModels.of(
                dev.mlops.runtime.onnx.ExternalDataModels.Placement.INITIALIZER, "data/w.bin")
            .toBytes());
    Files.write(model.resolve("w.bin"), dev.mlops.runtime.onnx.ExternalDataModels.weightBytes());
    // Names whose bytes differ from their characters, and that hold the encoding's separators.
    Files.writeString(tmp.resolve("model/notes é 1:2.txt"), "not referenced by the model");
    String script =
        "set -eu\n"
            + blocks.get(0)
            + "\n"
            + (kind.equals("ed25519") ? blocks.get(1) : blocks.get(2))
            + "\n";
    // Several runs for ECDSA: each signature openssl makes has even odds of a high S, which the
    // recipe's loop must sign away.
    for (int run = 0; run < (kind.equals("ed25519") ? 1 : 4); run++) {
      Process p =
          new ProcessBuilder("bash", "-c", script)
              .directory(tmp.toFile())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isZero();

      ArtifactSource source = ArtifactSource.directory(tmp.resolve("model"), "model.onnx");
      Manifest expected = Manifest.of("fraud", source);
      assertThat(Files.readAllBytes(tmp.resolve("manifest.bin"))).isEqualTo(expected.bytes());
      ManifestSignature sig =
          ManifestSignature.ofBase64(
              "ci",
              kind.equals("ed25519")
                  ? ManifestSignature.ED25519
                  : ManifestSignature.ECDSA_P256_SHA256,
              Files.readString(tmp.resolve("manifest.sig.b64")));
      TrustedKeys keys =
          TrustedKeys.builder().addPem("ci", tmp.resolve("signing-key.pub.pem")).build();
      assertThatCode(() -> keys.verify(expected, sig, "model")).doesNotThrowAnyException();
      // And a Java signature with openssl's private key verifies too.
      ManifestSigner javaSigner = ManifestSigner.fromPem("ci", tmp.resolve("signing-key.pem"));
      assertThatCode(() -> keys.verify(expected, javaSigner.sign(expected), "model"))
          .doesNotThrowAnyException();

      try (var registry =
          dev.mlops.runtime.local.LocalModelRegistry.builder(tmp.resolve("registry-" + run))
              .signaturePolicy(SignaturePolicy.ENFORCE)
              .trustedKeys(keys)
              .build()) {
        var v =
            registry.register(
                dev.mlops.api.Registration.builder("fraud", source).manifestSignature(sig).build(),
                dev.mlops.api.AuditInfo.by("ci", "openssl"));
        assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, v)).isNotEmpty();
        assertThatThrownBy(
                () ->
                    registry.register(
                        dev.mlops.api.Registration.builder("other", source)
                            .manifestSignature(sig)
                            .build(),
                        dev.mlops.api.AuditInfo.by("ci", "openssl")))
            .isInstanceOf(SignatureException.class)
            .hasMessageContaining("does not match its manifest (model 'other'");
      }
    }
  }

  /** The {@code sh} blocks of the section "With openssl" of SECURITY.md, in order. */
  static List<String> securityMdShellBlocks() throws IOException {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("SECURITY.md"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("a directory above the tests holding SECURITY.md").isNotNull();
    String md = Files.readString(dir.resolve("SECURITY.md"));
    int from = md.indexOf("### With openssl");
    assertThat(from).as("the section '### With openssl' of SECURITY.md").isNotNegative();
    int to = md.indexOf("\n### ", from + 1);
    String section = md.substring(from, to < 0 ? md.length() : to);
    List<String> blocks = new ArrayList<>();
    int i = section.indexOf("```sh\n");
    while (i >= 0) {
      int end = section.indexOf("\n```", i + 6);
      blocks.add(section.substring(i + 6, end + 1));
      i = section.indexOf("```sh\n", end + 4);
    }
    return blocks;
  }

  private static boolean onPath(String tool) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("sh", "-c", "command -v " + tool).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor() == 0;
  }

  private static String pem(String type, byte[] der) {
    List<String> lines = new ArrayList<>();
    lines.add("-----BEGIN " + type + "-----");
    lines.add(
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der));
    lines.add("-----END " + type + "-----");
    return String.join("\n", lines) + "\n";
  }
}
