package dev.mlops.cli;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.Lineage;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.Json;
import dev.mlops.runtime.security.ManifestSigner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code register}: a new version from a file, a directory or an MLflow model. */
@Command(
    name = "register",
    mixinStandardHelpOptions = true,
    description = {
      "Register a new version of MODEL from an .onnx file, a directory (external data beside the"
          + " model) or an MLflow model directory. Prints the new version's reference."
    },
    footer = {
      "",
      "Examples:",
      "  mlops register cancer model.onnx -d 'MLP (32, 16)' --run-id run-42 \\",
      "      --dataset s3://data/cancer --metric accuracy=0.986 --tag team=risk \\",
      "      --input-example example.json --sign-key release=release.pem -m 'nightly'",
      "  mlops register cancer --from-mlflow mlruns/0/3f2a/artifacts/model"
    })
final class RegisterCommand extends Base {

  @Parameters(index = "0", paramLabel = "MODEL", description = "The model's name.")
  String model;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "PATH",
      description = "An .onnx file, or a directory holding the model and its external data.")
  Path path;

  @Option(
      names = "--from-mlflow",
      paramLabel = "DIR",
      description =
          "An MLflow model directory (MLmodel with the onnx flavour): model file, signature,"
              + " input example and run id are read from it.")
  Path fromMlflow;

  @Option(
      names = "--model-file",
      paramLabel = "NAME",
      description = "For a directory: the model file in it (default: its only .onnx file).")
  String modelFile;

  @Option(
      names = {"-d", "--description"},
      paramLabel = "TEXT")
  String description;

  @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable).")
  Map<String, String> tags = new LinkedHashMap<>();

  @Option(names = "--run-id", paramLabel = "RUN", description = "Lineage: the training run.")
  String runId;

  @Option(names = "--dataset", paramLabel = "REF", description = "Lineage: the data set.")
  String dataset = "";

  @Option(
      names = "--metric",
      paramLabel = "NAME=VALUE",
      description = "Lineage: a metric (repeatable).")
  Map<String, Double> metrics = new LinkedHashMap<>();

  @Option(
      names = "--input-example",
      paramLabel = "FILE",
      description =
          "A JSON input example: rows for a one-input model, or {\"input\": [[...]], ...}; it"
              + " warms each load up.")
  Path inputExample;

  @Option(
      names = "--sign-key",
      paramLabel = "KEYID=PEM",
      description = "Sign the manifest with this PEM private key (Ed25519 or ECDSA P-256).")
  String signKey;

  @Option(
      names = "--progress",
      paramLabel = "WHEN",
      description =
          "A progress bar on stderr: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Progress.Mode progress = Progress.Mode.auto;

  @Option(names = "--json", description = "Print the new version as one JSON object.")
  boolean json;

  @Mixin Reason reason;

  @Override
  int run(GovernedRegistry registry) throws IOException {
    if ((path == null) == (fromMlflow == null)) {
      throw new ParameterException(
          spec.commandLine(),
          "expected either PATH or --from-mlflow DIR but found "
              + (path == null ? "neither" : "both"));
    }
    Optional<MlflowModel> mlflow = Optional.empty();
    Path dir;
    String entry;
    boolean single;
    if (fromMlflow != null) {
      MlflowModel m = MlflowModel.read(fromMlflow);
      mlflow = Optional.of(m);
      dir = fromMlflow;
      entry = m.modelFile();
      single = false;
    } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      dir = path;
      entry = modelFile != null ? modelFile : onlyOnnx(dir);
      single = false;
    } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
      if (modelFile != null) {
        throw new CliException(
            "--model-file: expected PATH to be a directory, but " + path + " is a file");
      }
      dir = path.toAbsolutePath().getParent();
      entry = path.getFileName().toString();
      single = true;
    } else {
      throw new CliException(
          "expected PATH to be an .onnx file or a directory, but " + path + " is neither");
    }
    ArtifactSource artifact =
        single ? ArtifactSource.file(path) : ArtifactSource.directory(dir, entry);

    // Everything that can refuse the registration is checked before a byte is copied.
    ModelSignature graph = null;
    if (mlflow.isPresent() || inputExample != null) {
      graph = graphSignature(dir, entry);
    }
    Map<String, String> allTags = new LinkedHashMap<>();
    Map<String, Tensor> example = null;
    if (mlflow.isPresent()) {
      MlflowModel m = mlflow.get();
      List<String> mismatches = m.mismatches(graph);
      if (!mismatches.isEmpty()) {
        throw new CliException(
            fromMlflow.resolve("MLmodel")
                + ": its signature disagrees with the ONNX graph of "
                + entry
                + ": "
                + String.join("; ", mismatches));
      }
      allTags.putAll(m.tags());
      if (m.inputExample().isPresent()) {
        example = JsonTensors.inputs(m.inputExample().get(), graph, "the MLflow input example");
      }
    }
    allTags.putAll(tags);
    if (inputExample != null) {
      example = readExample(inputExample, graph);
    }
    String run = runId != null ? runId : mlflow.map(MlflowModel::runId).orElse("");
    String text =
        description != null
            ? description
            : mlflow.isPresent() && !run.isEmpty() ? "MLflow model of run " + run : "";
    dev.mlops.api.ManifestSignature signature = null;
    if (signKey != null) {
      int eq = signKey.indexOf('=');
      if (eq <= 0 || eq == signKey.length() - 1) {
        throw new CliException("--sign-key: expected KEYID=PEM_FILE but found '" + signKey + "'");
      }
      ManifestSigner signer =
          ManifestSigner.fromPem(signKey.substring(0, eq), Path.of(signKey.substring(eq + 1)));
      signature = signer.sign(model, artifact);
    }

    List<ArtifactFile> hashed = single ? null : hashDirectory(dir);
    Progress bar =
        single ? new Progress(err(), progress, "copying " + entry, Files.size(path)) : null;
    ModelVersion v;
    List<ArtifactFile> read;
    try (Progress.Counting counting =
        single
            ? new Progress.Counting(Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS), bar)
            : null) {
      Registration.Builder b =
          Registration.builder(
              model, single ? new ArtifactSource.StreamSource(counting, entry) : artifact);
      allTags.forEach(b::tag);
      if (!run.isEmpty() || !dataset.isEmpty() || !metrics.isEmpty()) {
        b.lineage(new Lineage(run, dataset, metrics));
      }
      b.description(text);
      if (example != null) {
        b.inputExample(example);
      }
      if (signature != null) {
        b.manifestSignature(signature);
      }
      try {
        v = registry.register(b.build(), audit(reason));
      } finally {
        if (bar != null) {
          bar.finish();
        }
      }
      read =
          single
              ? List.of(new ArtifactFile(entry, counting.count(), counting.sha256Hex()))
              : hashed;
    }
    // The registry hashed what it stored; check that it is what this command read.
    String expected = GovernedRegistry.manifestDigest(read);
    if (!expected.equals(v.digest())) {
      throw new CliException(
          "registered "
              + v.ref()
              + " but its manifest digest is "
              + v.digest()
              + " where the files read here give "
              + expected
              + ": the files changed while they were registered");
    }
    if (json) {
      Output.json(out(), Views.version(v, List.of(), true));
    } else {
      out()
          .println(
              "registered "
                  + v.ref()
                  + "  sha256 "
                  + Output.shortDigest(v.digest())
                  + "  "
                  + Views.describe(v.signature()));
    }
    return 0;
  }

  private List<ArtifactFile> hashDirectory(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    long total = 0;
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          files.add(p);
          total += Files.size(p);
        }
      }
    }
    Progress bar = new Progress(err(), progress, "hashing " + files.size() + " files", total);
    List<ArtifactFile> out = new ArrayList<>();
    byte[] buf = new byte[1 << 16];
    for (Path p : files) {
      try (Progress.Counting in =
          new Progress.Counting(Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS), bar)) {
        while (in.read(buf) > 0) {
          // hashing
        }
        String rel = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
        out.add(new ArtifactFile(rel, in.count(), in.sha256Hex()));
      }
    }
    bar.finish();
    return out;
  }

  private static String onlyOnnx(Path dir) throws IOException {
    List<String> onnx = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(p -> p.getFileName().toString().endsWith(".onnx"))
          .forEach(p -> onnx.add(dir.relativize(p).toString().replace('\\', '/')));
    }
    if (onnx.size() != 1) {
      throw new CliException(
          "expected one .onnx file in " + dir + " (or --model-file NAME) but found " + onnx);
    }
    return onnx.get(0);
  }

  private ModelSignature graphSignature(Path dir, String entry) {
    Path abs = dir.toAbsolutePath();
    try (ModelSession s = engine.open(new ArtifactLocation(abs, abs.resolve(entry)))) {
      return s.signature();
    }
  }

  private static Map<String, Tensor> readExample(Path file, ModelSignature graph) {
    Object json;
    try {
      json = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new CliException("--input-example: cannot read " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new CliException(
          "--input-example " + file + ": expected JSON but found: " + e.getMessage(), e);
    }
    return JsonTensors.inputs(json, graph, "--input-example " + file);
  }
}
