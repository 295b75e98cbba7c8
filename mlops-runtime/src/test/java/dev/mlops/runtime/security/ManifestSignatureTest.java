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
import java.util.HexFormat;
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

  @Test
  void manifestTextIsSortedPathTabDigestLinesAndItsHashIsTheVersionDigestFormat() {
    assertThat(MANIFEST.text())
        .isEqualTo("model.onnx\t" + SHA_A + "\nweights/w.bin\t" + SHA_B + "\n");
    assertThat(MANIFEST.paths()).containsExactly("model.onnx", "weights/w.bin");
    assertThat(MANIFEST.sha256Hex())
        .isEqualTo(
            HexFormat.of()
                .formatHex(
                    Manifest.sha256().digest(MANIFEST.text().getBytes(StandardCharsets.UTF_8))));
    assertThatThrownBy(
            () ->
                Manifest.of(
                    List.of(new ArtifactFile("a", 1, SHA_A), new ArtifactFile("a", 1, SHA_B))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("twice");
    assertThatThrownBy(() -> Manifest.of(List.of())).isInstanceOf(IllegalArgumentException.class);
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

    List<Manifest> others =
        List.of(
            Manifest.of(List.of(new ArtifactFile("model.onnx", 100, SHA_A))), // a file missing
            Manifest.of(
                List.of(
                    new ArtifactFile("model.onnx", 100, SHA_A),
                    new ArtifactFile("weights/w.bin", 12, SHA_B),
                    new ArtifactFile("extra.bin", 1, SHA_B))), // a file added
            Manifest.of(
                List.of(
                    new ArtifactFile("model.onnx", 100, SHA_B),
                    new ArtifactFile("weights/w.bin", 12, SHA_B))),
            Manifest.of(
                List.of(
                    new ArtifactFile("model.onnx", 100, SHA_A),
                    new ArtifactFile("weights/x.bin", 12, SHA_B))));
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
    // Garbage where a DER signature belongs is an invalid signature, not a crash.
    ManifestSignature garbage =
        new ManifestSignature("ec", ManifestSignature.ECDSA_P256_SHA256, new byte[] {1, 2, 3});
    assertThatThrownBy(
            () ->
                TrustedKeys.builder()
                    .add("ec", ec.getPublic())
                    .build()
                    .verify(MANIFEST, garbage, "m"))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("does not match");
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
            () -> new ManifestSignature("bad id", ManifestSignature.ED25519, new byte[1]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ManifestSignature("k", "SHA1withRSA", new byte[1]))
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
    byte[] value = {1, 2, 3};
    ManifestSignature s = new ManifestSignature("k", ManifestSignature.ED25519, value);
    value[0] = 9;
    assertThat(s.value()).containsExactly(1, 2, 3);
    s.value()[1] = 9;
    assertThat(s.value()).containsExactly(1, 2, 3);
    assertThat(ManifestSignature.ofBase64("k", ManifestSignature.ED25519, s.valueBase64()))
        .isEqualTo(s);
  }

  @Test
  void manifestOfASourceListsWhatTheRegistryWillRecord() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("d/sub"));
    Files.write(dir.resolve("w.bin"), new byte[] {1, 2});
    Files.write(tmp.resolve("d/model.onnx"), new byte[] {3});
    Manifest m = Manifest.of(ArtifactSource.directory(tmp.resolve("d"), "model.onnx"));
    assertThat(m.paths()).containsExactly("model.onnx", "sub/w.bin");
    assertThat(m.files().get(1).size()).isEqualTo(2);
    assertThat(Manifest.of(ArtifactSource.file(tmp.resolve("d/model.onnx"))).paths())
        .containsExactly("model.onnx");
    assertThatThrownBy(
            () ->
                Manifest.of(
                    ArtifactSource.stream(new java.io.ByteArrayInputStream(new byte[1]), "m.onnx")))
        .isInstanceOf(IllegalArgumentException.class);
    Files.createSymbolicLink(tmp.resolve("d/link"), dir);
    assertThatThrownBy(() -> Manifest.of(ArtifactSource.directory(tmp.resolve("d"), "model.onnx")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("symbolic link");
  }

  /**
   * The recipe of SECURITY.md, run as written: the manifest made with find/sha256sum/sort and the
   * signature made with openssl verify in Java, for both key types.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ed25519", "p256"})
  void signatureMadeWithOpensslAsSecurityMdShowsVerifies(String kind) throws Exception {
    assumeTrue(onPath("openssl") && onPath("sha256sum"), "openssl and sha256sum are needed");
    Path model = Files.createDirectories(tmp.resolve("model/data"));
    Files.write(model.resolve("w.bin"), new byte[] {1, 2, 3});
    Files.write(tmp.resolve("model/model.onnx"), new byte[] {4, 5});
    Files.write(tmp.resolve("model/a-b.onnx"), new byte[] {6});
    String keygen =
        kind.equals("ed25519")
            ? "openssl genpkey -algorithm ed25519 -out signing-key.pem"
            : "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out signing-key.pem";
    String sign =
        kind.equals("ed25519")
            ? "openssl pkeyutl -sign -inkey signing-key.pem -rawin -in manifest.txt -out manifest.sig"
            : "openssl dgst -sha256 -sign signing-key.pem -out manifest.sig manifest.txt";
    String script =
        String.join(
            "\n",
            "set -eu",
            keygen,
            "openssl pkey -in signing-key.pem -pubout -out signing-key.pub.pem",
            "(cd model && find . -type f | sed 's|^\\./||' | LC_ALL=C sort | while IFS= read -r f; do",
            "  printf '%s\\t%s\\n' \"$f\" \"$(sha256sum \"$f\" | cut -d' ' -f1)\"",
            "done) > manifest.txt",
            sign,
            "openssl base64 -A -in manifest.sig > manifest.sig.b64");
    Process p =
        new ProcessBuilder("bash", "-c", script)
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();

    Manifest expected = Manifest.of(ArtifactSource.directory(tmp.resolve("model"), "model.onnx"));
    assertThat(Files.readString(tmp.resolve("manifest.txt"))).isEqualTo(expected.text());
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
    // And a Java signature verifies with openssl's key format the other way round.
    ManifestSigner javaSigner = ManifestSigner.fromPem("ci", tmp.resolve("signing-key.pem"));
    assertThatCode(() -> keys.verify(expected, javaSigner.sign(expected), "model"))
        .doesNotThrowAnyException();
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
