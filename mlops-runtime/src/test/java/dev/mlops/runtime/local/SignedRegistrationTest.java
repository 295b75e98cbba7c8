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

  private dev.mlops.runtime.testing.Decoys decoys;

  @org.junit.jupiter.api.AfterEach
  void nothingOutsideChanged() {
    decoys.assertUntouched();
  }

  @BeforeEach
  void keysAndModels() throws Exception {
    decoys = dev.mlops.runtime.testing.Decoys.in(tmp.resolve("outside"));
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
      assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, v)).isNotEmpty();
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
    // Without signatures the forged metadata passes the file-list check, but its digest is not the
    // one the version's REGISTER audit entry recorded.
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry unsigned =
            LocalModelRegistry.builder(tmp.resolve("reg")).engine(engine).build()) {
      assertThatThrownBy(() -> unsigned.verifiedArtifact(unsigned.versions("ext").get(0)))
          .isInstanceOf(dev.mlops.api.IntegrityException.class)
          .hasMessageContaining("are not the ones registered as that version");
      assertThat(engine.opens.get()).isZero();
    }
  }

  /** The name of the file verification hands to the engine as the entry point. */
  private static String servedFileName(GovernedRegistry registry, ModelVersion v) {
    try (dev.mlops.runtime.registry.VerifiedArtifact a = registry.verifiedArtifact(v)) {
      return a.location().modelFile().getFileName().toString();
    }
  }

  private Path versionDir(GovernedRegistry registry, String model, long version) {
    return LocalModelRegistry.root(registry)
        .orElseThrow()
        .resolve("models")
        .resolve(model)
        .resolve(Long.toString(version));
  }

  /**
   * Finding: editing the unsigned {@code modelFile} of a version's stored metadata served another
   * signed file of the same artifact. The manifest names the entry point, so the edited version
   * fails its signature before ONNX Runtime sees either file.
   */
  @Test
  void editedEntryPointInStoredMetadataFailsTheSignature() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("two-models"));
    Files.copy(v1, dir.resolve("breast-cancer-v1.onnx"));
    Files.copy(v2, dir.resolve("breast-cancer-v2.onnx"));
    ArtifactSource source = ArtifactSource.directory(dir, "breast-cancer-v1.onnx");
    Path json;
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      ModelVersion v =
          registry.register(
              Registration.builder("cancer", source)
                  .manifestSignature(release.sign("cancer", source))
                  .build(),
              CI);
      assertThat(servedFileName(registry, v)).hasToString("breast-cancer-v1.onnx");
      json = versionDir(registry, "cancer", 1).resolve("version.json");
    }
    String edited =
        Files.readString(json)
            .replaceFirst(
                "(\"modelFile\"\\s*:\\s*)\"breast-cancer-v1.onnx\"", "$1\"breast-cancer-v2.onnx\"");
    assertThat(edited).isNotEqualTo(Files.readString(json));
    Files.writeString(json, edited);

    // Without signatures the edit is not caught: the other file would be served.
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry unsigned = open(SignaturePolicy.OFF, engine)) {
      ModelVersion read = unsigned.versions("cancer").get(0);
      assertThat(servedFileName(unsigned, read)).hasToString("breast-cancer-v2.onnx");
    }
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      ModelVersion read = registry.versions("cancer").get(0);
      assertThat(read.modelFile()).isEqualTo("breast-cancer-v2.onnx");
      assertThatThrownBy(() -> registry.verifiedArtifact(read))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining(
              "by key 'release' does not match its manifest (model 'cancer', entry point"
                  + " 'breast-cancer-v2.onnx'");
      assertThat(engine.opens.get()).isZero();
      assertThat(registry.audit(AuditQuery.builder().actions(AuditAction.SIGNATURE_FAILED).build()))
          .hasSize(1);
    }
  }

  /**
   * Finding: copying model {@code m}'s version into model {@code b} served m's model as b. The
   * manifest names the model, so the copy fails its signature; the original still verifies.
   */
  @Test
  void versionCopiedIntoAnotherModelFailsTheSignature() throws Exception {
    Path source;
    Path target;
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      registry.register(
          Registration.builder("fraud", ArtifactSource.file(v1))
              .manifestSignature(release.sign("fraud", ArtifactSource.file(v1)))
              .build(),
          CI);
      registry.register(
          Registration.builder("other", ArtifactSource.file(v2))
              .manifestSignature(release.sign("other", ArtifactSource.file(v2)))
              .build(),
          CI);
      source = versionDir(registry, "fraud", 1);
      target = versionDir(registry, "other", 2);
    }
    Files.createDirectories(target);
    try (var files = Files.list(source)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, target.resolve(f.getFileName()));
      }
    }
    Path json = target.resolve("version.json");
    Files.writeString(
        json,
        Files.readString(json)
            .replaceFirst("(\"name\"\\s*:\\s*)\"fraud\"", "$1\"other\"")
            .replaceFirst("(\"version\"\\s*:\\s*)1\\b", "$12"));

    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      ModelVersion copy = registry.get(dev.mlops.api.ModelRef.parse("models:/other/2"));
      assertThat(copy.digest()).isEqualTo(registry.versions("fraud").get(0).digest());
      assertThatThrownBy(() -> registry.verifiedArtifact(copy))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("the signature of models:/other/2 by key 'release'")
          .hasMessageContaining("does not match its manifest (model 'other'");
      assertThat(
              dev.mlops.runtime.testing.Stored.verifiedModelBytes(
                  registry, registry.versions("fraud").get(0)))
          .isNotEmpty();
      assertThat(engine.opens.get()).isZero();
    }
  }

  /**
   * Finding: a file named {@code a.onnx<TAB><sha>⏎b.bin} produced the manifest text of two other
   * files, so a signature over {@code {a.onnx, b.bin}} verified a directory holding different
   * files. Such names are refused before anything parses the model, and the registry is unchanged.
   */
  @Test
  void fileNameWithTabAndNewlineIsRefusedAtRegistration() throws Exception {
    Path legit = Files.createDirectories(tmp.resolve("legit"));
    Files.copy(v1, legit.resolve("a.onnx"));
    Files.writeString(legit.resolve("b.bin"), "weights");
    ArtifactSource legitSource = ArtifactSource.directory(legit, "a.onnx");
    ManifestSignature legitSignature = release.sign("cancer", legitSource);
    String shaA = Manifest.of("cancer", legitSource).files().get(0).sha256();

    Path posing = Files.createDirectories(tmp.resolve("posing"));
    Files.copy(v1, posing.resolve("a.onnx"));
    Files.writeString(posing.resolve("a.onnx\t" + shaA + "\nb.bin"), "other weights");
    ArtifactSource posingSource = ArtifactSource.directory(posing, "a.onnx");
    assertThatThrownBy(() -> release.sign("cancer", posingSource))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("control character U+0009");

    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      registry.register(signed(v2, release.sign("cancer", ArtifactSource.file(v2))), CI);
      SortedMap<String, String> before = snapshot(LocalModelRegistry.root(registry).orElseThrow());
      int opens = engine.opens.get();
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("cancer", posingSource)
                          .manifestSignature(legitSignature)
                          .build(),
                      CI))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("the file name 'a.onnx\\u0009" + shaA + "\\u000Ab.bin' of model")
          .hasMessageContaining("holds the control character U+0009 at index 6");
      assertThat(snapshot(LocalModelRegistry.root(registry).orElseThrow())).isEqualTo(before);
      assertThat(stagingEntries(LocalModelRegistry.root(registry).orElseThrow())).isEmpty();
      assertThat(engine.opens.get()).isEqualTo(opens);
      // The legitimate two-file directory registers with the same signature.
      assertThat(
              registry
                  .register(
                      Registration.builder("cancer", legitSource)
                          .manifestSignature(legitSignature)
                          .build(),
                      CI)
                  .version())
          .isEqualTo(2);
    }
  }

  /** A control character that stored metadata gains later is refused at verification. */
  @Test
  void controlCharacterInStoredMetadataIsRefusedAtVerification() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("dir"));
    Files.copy(v1, dir.resolve("model.onnx"));
    Files.writeString(dir.resolve("notes.txt"), "notes");
    ArtifactSource source = ArtifactSource.directory(dir, "model.onnx");
    ModelVersion v;
    Path json;
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      v =
          registry.register(
              Registration.builder("cancer", source)
                  .manifestSignature(release.sign("cancer", source))
                  .build(),
              CI);
      json = versionDir(registry, "cancer", 1).resolve("version.json");
    }
    List<ArtifactFile> forged =
        v.files().stream()
            .map(
                f ->
                    f.path().equals("notes.txt")
                        ? new ArtifactFile("notes\ntxt", f.size(), f.sha256())
                        : f)
            .toList();
    // The file-list digest is unsigned, so the forger can keep it consistent.
    Files.writeString(
        json,
        Files.readString(json)
            .replace("\"notes.txt\"", "\"notes\\ntxt\"")
            .replace(v.digest(), GovernedRegistry.manifestDigest(forged)));
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      ModelVersion read = registry.versions("cancer").get(0);
      assertThat(read.files()).extracting(ArtifactFile::path).contains("notes\ntxt");
      assertThatThrownBy(() -> registry.verifiedArtifact(read))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("the file name 'notes\\u000Atxt' of model 'cancer'")
          .hasMessageContaining("control character U+000A");
      assertThat(engine.opens.get()).isZero();
      assertThat(registry.audit(AuditQuery.builder().actions(AuditAction.SIGNATURE_FAILED).build()))
          .hasSize(1);
    }
  }

  /** Finding: a 65-byte Ed25519 signature was accepted; stored, it reads as damaged. */
  @Test
  void storedEd25519SignatureWithATrailingByteIsRefused() throws Exception {
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      ManifestSignature good = release.sign("cancer", ArtifactSource.file(v1));
      ModelVersion v = registry.register(signed(v1, good), CI);
      Path sigFile =
          versionDir(registry, "cancer", 1)
              .resolve(dev.mlops.api.spi.NewVersion.MANIFEST_SIGNATURE);
      byte[] longer = java.util.Arrays.copyOf(good.value(), 65);
      Files.writeString(
          sigFile,
          Files.readString(sigFile)
              .replace(good.valueBase64(), java.util.Base64.getEncoder().encodeToString(longer)));
      assertThatThrownBy(() -> registry.verifiedArtifact(v))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("the manifest signature of models:/cancer/1 is damaged")
          .hasMessageContaining("an Ed25519 signature is exactly 64 bytes but this one is 65");
      assertThat(engine.opens.get()).as("models handed to ONNX Runtime").isEqualTo(1);
    }
  }

  /** The high-S twin of a valid ECDSA signature is refused at registration; the low one passes. */
  @Test
  void highSEcdsaSignatureIsRefusedAtRegistrationAndItsLowTwinAccepted() {
    ManifestSignature low =
        ManifestSigner.of("release-ec", ec.getPrivate()).sign("cancer", ArtifactSource.file(v1));
    byte[] der = low.value();
    java.math.BigInteger n =
        ((java.security.interfaces.ECPublicKey) ec.getPublic()).getParams().getOrder();
    int rLen = der[3];
    java.math.BigInteger r =
        new java.math.BigInteger(1, java.util.Arrays.copyOfRange(der, 4, 4 + rLen));
    java.math.BigInteger sv =
        new java.math.BigInteger(1, java.util.Arrays.copyOfRange(der, 6 + rLen, der.length));
    byte[] rb = r.toByteArray();
    byte[] sb = n.subtract(sv).toByteArray();
    byte[] high = new byte[6 + rb.length + sb.length];
    high[0] = 0x30;
    high[1] = (byte) (4 + rb.length + sb.length);
    high[2] = 0x02;
    high[3] = (byte) rb.length;
    System.arraycopy(rb, 0, high, 4, rb.length);
    high[4 + rb.length] = 0x02;
    high[5 + rb.length] = (byte) sb.length;
    System.arraycopy(sb, 0, high, 6 + rb.length, sb.length);
    ManifestSignature twin =
        new ManifestSignature("release-ec", ManifestSignature.ECDSA_P256_SHA256, high);
    try (CountingEngine engine = new CountingEngine();
        GovernedRegistry registry = open(SignaturePolicy.ENFORCE, engine)) {
      assertThatThrownBy(() -> registry.register(signed(v1, twin), CI))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("its S is high");
      assertThat(registry.models()).isEmpty();
      assertThat(registry.register(signed(v1, low), CI).version()).isEqualTo(1);
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
      assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, v)).isNotEmpty();
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
        assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, v)).isNotEmpty();
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
      assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, v)).isNotEmpty();
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
