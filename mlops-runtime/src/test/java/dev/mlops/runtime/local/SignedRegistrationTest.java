package dev.mlops.runtime.local;

import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ManifestSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.SignatureException;
import dev.mlops.runtime.onnx.ExternalDataModels;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.security.Manifest;
import dev.mlops.runtime.security.ManifestSigner;
import dev.mlops.runtime.security.SignaturePolicy;
import dev.mlops.runtime.security.TrustedKeys;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.SortedMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Signature policies of the local registry, at registration and before every load. */
class SignedRegistrationTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "release 42");

  @TempDir Path tmp;
  private KeyPair ed;
  private KeyPair ec;
  private ManifestSigner release;
  private TrustedKeys trusted;
  private Path v1;
  private Path v2;

  @BeforeEach
  void keysAndModels() throws Exception {
    ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    ec = g.generateKeyPair();
    release = ManifestSigner.of("release", ed.getPrivate());
    trusted =
        TrustedKeys.builder()
            .add("release", ed.getPublic())
            .add("release-ec", ec.getPublic())
            .build();
    v1 = TestModels.copy(TestModels.BREAST_CANCER_V1, Files.createDirectories(tmp.resolve("m1")));
    v2 = TestModels.copy(TestModels.BREAST_CANCER_V2, Files.createDirectories(tmp.resolve("m2")));
  }

  private GovernedRegistry open(SignaturePolicy policy, CountingEngine engine) {
    GovernedRegistry.Builder b =
        LocalModelRegistry.builder(tmp.resolve("reg")).engine(engine).signaturePolicy(policy);
    if (policy != SignaturePolicy.OFF) {
      b.trustedKeys(trusted);
    }
    return b.build();
  }

  private static Registration signed(Path file, ManifestSignature sig) {
    return Registration.builder("cancer", ArtifactSource.file(file)).manifestSignature(sig).build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"Ed25519", "P-256"})
  void enforcedRegistryAcceptsAValidSignatureStoresItAndAuditsTheKey(String kind) {
    ManifestSigner signer =
        kind.equals("Ed25519") ? release : ManifestSigner.of("release-ec", ec.getPrivate());
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      ManifestSignature sig = signer.sign("cancer", ArtifactSource.file(v1));
      ModelVersion v = registry.register(signed(v1, sig), CI);

      assertThat(registry.manifestSignature(v)).contains(sig);
      assertThat(Manifest.of(v).model()).isEqualTo("cancer");
      assertThat(Manifest.of(v).entryPoint()).isEqualTo(v.modelFile());
      assertThat(Manifest.of("cancer", ArtifactSource.file(v1))).isEqualTo(Manifest.of(v));
      assertThat(registry.verifiedArtifact(v).modelFile()).exists();
      assertThat(registry.audit(AuditQuery.builder().actions(AuditAction.REGISTER).build()))
          .singleElement()
          .satisfies(
              e ->
                  assertThat(e.details())
                      .containsEntry("signature", "verified")
                      .containsEntry("signatureKeyId", signer.keyId())
                      .containsEntry("version", "1"));
      // A version signed before registration can be signed again from the registry's record.
      assertThat(Manifest.of(v)).isEqualTo(Manifest.of(v.name(), v.modelFile(), v.files()));
      assertThat(engine.live()).isZero();
    }
  }

  @Test
  void enforcedRegistryRefusesUnsignedUntrustedAndWrongSignaturesBeforeOnnxRuntimeSeesTheModel()
      throws Exception {
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      registry.register(signed(v1, release.sign("cancer", ArtifactSource.file(v1))), CI);
      registry.setAlias("cancer", "prod", 1, CI);
      int opensBefore = engine.opens.get();
      SortedMap<String, String> before = snapshot(LocalModelRegistry.root(registry).orElseThrow());
      KeyPair stranger = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();

      List<Registration> refused =
          List.of(
              Registration.builder("cancer", ArtifactSource.file(v2)).build(),
              // signed, but over another model's manifest
              signed(v2, release.sign("cancer", ArtifactSource.file(v1))),
              // a key the registry does not trust
              signed(
                  v2,
                  ManifestSigner.of("stranger", stranger.getPrivate())
                      .sign("cancer", ArtifactSource.file(v2))),
              // a trusted key id, signed by someone else's key
              signed(
                  v2,
                  ManifestSigner.of("release", stranger.getPrivate())
                      .sign("cancer", ArtifactSource.file(v2))),
              // the right signature, claimed for the wrong algorithm
              signed(
                  v2,
                  new ManifestSignature(
                      "release",
                      ManifestSignature.ECDSA_P256_SHA256,
                      release.sign("cancer", ArtifactSource.file(v2)).value())),
              // a directory with an extra file that was not signed
              Registration.builder(
                      "cancer",
                      ArtifactSource.directory(withExtraFile(v2), "breast-cancer-v2.onnx"))
                  .manifestSignature(release.sign("cancer", ArtifactSource.file(v2)))
                  .build());
      List<String> expected =
          List.of(
              "has no manifest signature",
              "does not match its manifest",
              "not among the trusted keys",
              "does not match its manifest",
              "is an Ed25519 key",
              "does not match its manifest");
      for (int i = 0; i < refused.size(); i++) {
        Registration r = refused.get(i);
        assertThatThrownBy(() -> registry.register(r, CI))
            .as("case %d", i)
            .isInstanceOf(SignatureException.class)
            .hasMessageContaining(expected.get(i));
        assertThat(snapshot(LocalModelRegistry.root(registry).orElseThrow()))
            .as("case %d", i)
            .isEqualTo(before);
        assertThat(stagingEntries(LocalModelRegistry.root(registry).orElseThrow())).isEmpty();
      }
      assertThat(engine.opens.get()).as("models handed to ONNX Runtime").isEqualTo(opensBefore);
      assertThat(registry.versions("cancer")).hasSize(1);
      assertThat(registry.aliases("cancer")).containsEntry("prod", 1L);
    }
  }

  private Path withExtraFile(Path model) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("with-extra"));
    Files.copy(model, dir.resolve(model.getFileName()));
    Files.writeString(dir.resolve("README.txt"), "not signed");
    return dir;
  }

  @Test
  void signedDirectoryWithExternalDataCoversEveryFile() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("ext"));
    Files.write(
        dir.resolve("model.onnx"),
        ExternalDataModels.of(ExternalDataModels.Placement.INITIALIZER, "weights.bin").toBytes());
    Files.write(dir.resolve("weights.bin"), ExternalDataModels.weightBytes());
    ArtifactSource source = ArtifactSource.directory(dir, "model.onnx");
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      ModelVersion v =
          registry.register(
              Registration.builder("ext", source)
                  .manifestSignature(release.sign("ext", source))
                  .build(),
              CI);
      assertThat(Manifest.of(v).paths()).containsExactly("model.onnx", "weights.bin");

      // Changing the weights afterwards, even with a matching digest in the metadata, breaks the
      // signature.
      Path versionDir = LocalModelRegistry.root(registry).orElseThrow().resolve("models/ext/1");
      Path filesDir = RegistryTestSupport.artifactDir(registry, v);
      Files.write(filesDir.resolve("weights.bin"), new byte[12]);
      String json = Files.readString(versionDir.resolve("version.json"));
      String newSha =
          Manifest.of("ext", ArtifactSource.file(filesDir.resolve("weights.bin")))
              .files()
              .get(0)
              .sha256();
      String oldSha =
          v.files().stream()
              .filter(f -> f.path().equals("weights.bin"))
              .findFirst()
              .orElseThrow()
              .sha256();
      List<ArtifactFile> forged =
          v.files().stream()
              .map(
                  f ->
                      f.path().equals("weights.bin")
                          ? new ArtifactFile(f.path(), f.size(), newSha)
                          : f)
              .toList();
      Files.writeString(
          versionDir.resolve("version.json"),
          json.replace(oldSha, newSha)
              .replace(v.digest(), GovernedRegistry.manifestDigest(forged)));
    }
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry reopened = open(SignaturePolicy.ENFORCE, engine)) {
      ModelVersion forged = reopened.versions("ext").get(0);
      assertThatThrownBy(() -> reopened.verifiedArtifact(forged))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("by key 'release' does not match its manifest");
      assertThat(engine.opens.get()).isZero();
      assertThat(reopened.audit(AuditQuery.builder().actions(AuditAction.SIGNATURE_FAILED).build()))
          .singleElement()
          .satisfies(
              e ->
                  assertThat(e.details())
                      .containsEntry("keyId", "release")
                      .containsEntry("version", "1"));
    }
    // Without signatures the forged metadata passes the file-list check, but it names files by a
    // digest under which nothing is stored: the artifact store is content-addressed.
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry unsigned =
            LocalModelRegistry.builder(tmp.resolve("reg")).engine(engine).build()) {
      assertThatThrownBy(() -> unsigned.verifiedArtifact(unsigned.versions("ext").get(0)))
          .isInstanceOf(dev.mlops.api.IntegrityException.class)
          .hasMessageContaining("are missing");
      assertThat(engine.opens.get()).isZero();
    }
  }

  @Test
  void storedSignatureIsCheckedBeforeEveryLoad() throws Exception {
    ModelVersion v;
    Path sigFile;
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      v = registry.register(signed(v1, release.sign("cancer", ArtifactSource.file(v1))), CI);
      sigFile =
          LocalModelRegistry.root(registry)
              .orElseThrow()
              .resolve("models/cancer/1")
              .resolve(dev.mlops.api.spi.NewVersion.MANIFEST_SIGNATURE);
      String good = Files.readString(sigFile);

      Files.writeString(
          sigFile,
          GovernedRegistry.signatureToJson(release.sign("cancer", ArtifactSource.file(v2))));
      assertThatThrownBy(() -> registry.verifiedArtifact(v))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("models:/cancer/1");
      Files.writeString(sigFile, "{\"keyId\": 12");
      assertThatThrownBy(() -> registry.verifiedArtifact(v))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("is damaged");
      Files.delete(sigFile);
      assertThatThrownBy(() -> registry.verifiedArtifact(v))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("has no manifest signature");
      assertThatThrownBy(() -> registry.setAlias("cancer", "prod", 1, CI))
          .hasMessageContaining("refusing to point an alias at models:/cancer/1");
      assertThat(registry.aliases("cancer")).isEmpty();

      Files.writeString(sigFile, good);
      assertThat(registry.verifiedArtifact(v).modelFile()).exists();
      List<AuditEntry> failures =
          registry.failures(java.time.Instant.EPOCH, java.time.Instant.now().plusSeconds(60));
      assertThat(failures)
          .extracting(AuditEntry::action)
          .containsOnly(AuditAction.SIGNATURE_FAILED)
          .hasSize(3);
      assertThat(failures).extracting(e -> e.actor()).containsOnly("mlops");
    }
  }

  @Test
  void warnPolicyRegistersAndLoadsButRecordsWhatEnforceWouldRefuse() throws Exception {
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.WARN, engine)) {
      ModelVersion unsigned =
          registry.register(Registration.builder("cancer", ArtifactSource.file(v1)).build(), CI);
      ModelVersion badlySigned =
          registry.register(signed(v2, release.sign("cancer", ArtifactSource.file(v1))), CI);
      ModelVersion good =
          registry.register(signed(v2, release.sign("cancer", ArtifactSource.file(v2))), CI);

      for (ModelVersion v : List.of(unsigned, badlySigned, good)) {
        assertThat(registry.verifiedArtifact(v).modelFile()).exists();
      }
      assertThat(registry.audit(AuditQuery.builder().actions(AuditAction.REGISTER).build()))
          .extracting(e -> e.details().get("signature"))
          .containsExactly("missing", "invalid", "verified");
      assertThat(
              registry.failures(java.time.Instant.EPOCH, java.time.Instant.now().plusSeconds(60)))
          .isEmpty();
    }
  }

  @Test
  void offPolicyStoresASignatureWithoutCheckingIt() throws Exception {
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.OFF, engine)) {
      ManifestSignature wrong = release.sign("cancer", ArtifactSource.file(v2));
      ModelVersion v = registry.register(signed(v1, wrong), CI);
      assertThat(registry.manifestSignature(v)).contains(wrong);
      assertThat(registry.verifiedArtifact(v).modelFile()).exists();
      assertThat(registry.auditLog().get(0).details()).containsEntry("signature", "unchecked");
      ModelVersion plain =
          registry.register(Registration.builder("cancer", ArtifactSource.file(v2)).build(), CI);
      assertThat(registry.manifestSignature(plain)).isEmpty();
      assertThat(registry.auditLog().get(1).details())
          .doesNotContainKeys("signature", "signatureKeyId");
    }
  }

  @Test
  void conflictingSignatureOptionsFailAtBuildNamingTheOption() {
    Path root = tmp.resolve("conf");
    assertThatThrownBy(
            () -> LocalModelRegistry.builder(root).signaturePolicy(SignaturePolicy.ENFORCE).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs trustedKeys");
    assertThatThrownBy(() -> LocalModelRegistry.builder(root).trustedKeys(trusted).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("signaturePolicy is OFF");
    assertThatThrownBy(
            () ->
                LocalModelRegistry.builder(root)
                    .signaturePolicy(SignaturePolicy.WARN)
                    .signaturePolicy(SignaturePolicy.ENFORCE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("signaturePolicy was already set");
    assertThatThrownBy(() -> LocalModelRegistry.builder(root).maxArtifactBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxArtifactBytes");
    assertThat(root).doesNotExist();
  }
}
