package dev.mlops.cli;

import dev.mlops.api.ModelSignature;
import dev.mlops.api.TensorSpec;
import dev.mlops.runtime.registry.Json;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What the CLI reads from an MLflow model directory: its {@code MLmodel} file (YAML) with the
 * {@code onnx} flavour, the model file it names, the tensor signature, the run id and the saved
 * input example.
 *
 * @param directory the MLflow model directory
 * @param modelFile the ONNX file, relative to the directory ({@code flavors.onnx.data})
 * @param runId the MLflow run that logged the model, or empty
 * @param inputs the signature's tensor inputs, empty when the model has no tensor signature
 * @param outputs the signature's tensor outputs
 * @param inputExample the saved input example's JSON, if the model has one
 * @param tags what else the MLmodel says, as {@code mlflow.*} tags
 */
record MlflowModel(
    Path directory,
    String modelFile,
    String runId,
    List<Spec> inputs,
    List<Spec> outputs,
    Optional<Object> inputExample,
    Map<String, String> tags) {

  /** A tensor of an MLflow signature; {@code -1} is a dynamic dimension. */
  record Spec(String name, String dtype, List<Long> shape) {}

  /**
   * Reads {@code dir/MLmodel}.
   *
   * @throws CliException naming what was expected and what was found
   */
  static MlflowModel read(Path dir) {
    Path mlmodel = dir.resolve("MLmodel");
    if (!Files.isRegularFile(mlmodel, LinkOption.NOFOLLOW_LINKS)) {
      throw new CliException(
          "--from-mlflow: expected an MLflow model directory with an MLmodel file, but "
              + mlmodel
              + " does not exist");
    }
    Object doc;
    try (Reader r = Files.newBufferedReader(mlmodel, StandardCharsets.UTF_8)) {
      doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
    } catch (IOException e) {
      throw new CliException("cannot read " + mlmodel + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new CliException(
          mlmodel + ": expected YAML but found an error: " + Errors.flatten(e.getMessage()), e);
    }
    if (!(doc instanceof Map<?, ?> root)) {
      throw new CliException(mlmodel + ": expected a YAML mapping but found " + kind(doc));
    }
    Map<?, ?> flavors = map(root.get("flavors"));
    Map<?, ?> onnx = map(flavors.get("onnx"));
    if (onnx.isEmpty()) {
      throw new CliException(
          mlmodel
              + ": expected the onnx flavour (flavors.onnx) but found the flavours "
              + flavors.keySet());
    }
    Object data = onnx.get("data");
    if (!(data instanceof String file) || file.isBlank()) {
      throw new CliException(
          mlmodel + ": expected flavors.onnx.data to name the model file but found " + kind(data));
    }
    if (!Files.isRegularFile(dir.resolve(file), LinkOption.NOFOLLOW_LINKS)) {
      throw new CliException(
          mlmodel + ": flavors.onnx.data names " + file + ", which is not a file in " + dir);
    }
    String runId = root.get("run_id") == null ? "" : root.get("run_id").toString();
    Map<?, ?> signature = map(root.get("signature"));
    List<Spec> inputs = specs(mlmodel, "inputs", signature.get("inputs"));
    List<Spec> outputs = specs(mlmodel, "outputs", signature.get("outputs"));

    Optional<Object> example = Optional.empty();
    Map<?, ?> info = map(root.get("saved_input_example_info"));
    Object exampleFile = info.get("artifact_path");
    if (exampleFile != null) {
      Path p = dir.resolve(exampleFile.toString());
      try {
        example = Optional.of(Json.parse(Files.readString(p, StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new CliException(
            mlmodel
                + ": saved_input_example_info names "
                + exampleFile
                + ", which cannot be read: "
                + e.getMessage(),
            e);
      } catch (IllegalArgumentException e) {
        throw new CliException(p + ": expected JSON but found: " + e.getMessage(), e);
      }
    }
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("mlflow.flavor", "onnx");
    put(tags, "mlflow.model_uuid", root.get("model_uuid"));
    put(tags, "mlflow.version", root.get("mlflow_version"));
    put(tags, "mlflow.artifact_path", root.get("artifact_path"));
    put(tags, "mlflow.utc_time_created", root.get("utc_time_created"));
    put(tags, "mlflow.onnx_version", onnx.get("onnx_version"));
    return new MlflowModel(dir, file, runId, inputs, outputs, example, tags);
  }

  private static void put(Map<String, String> tags, String key, Object value) {
    if (value != null && !value.toString().isBlank()) {
      tags.put(key, value.toString());
    }
  }

  private static Map<?, ?> map(Object o) {
    return o instanceof Map<?, ?> m ? m : Map.of();
  }

  private static String kind(Object o) {
    return JsonTensors.kind(o);
  }

  /** MLflow writes each side of the signature as a JSON string inside the YAML. */
  private static List<Spec> specs(Path mlmodel, String side, Object json) {
    if (json == null) {
      return List.of();
    }
    Object parsed;
    try {
      parsed = json instanceof String s ? Json.parse(s) : json;
    } catch (IllegalArgumentException e) {
      throw new CliException(
          mlmodel + ": expected signature." + side + " to be JSON but found: " + e.getMessage(), e);
    }
    if (!(parsed instanceof List<?> list)) {
      throw new CliException(
          mlmodel + ": expected signature." + side + " to be a list but found " + kind(parsed));
    }
    List<Spec> out = new ArrayList<>();
    for (Object o : list) {
      Map<?, ?> m = map(o);
      if (!"tensor".equals(m.get("type"))) {
        // A column-based signature (pandas): names columns, not tensors; nothing to check.
        return List.of();
      }
      Map<?, ?> ts = map(m.get("tensor-spec"));
      List<Long> shape = new ArrayList<>();
      if (ts.get("shape") instanceof List<?> dims) {
        for (Object d : dims) {
          shape.add(((Number) d).longValue());
        }
      }
      Object name = m.get("name");
      out.add(
          new Spec(name == null ? "" : name.toString(), String.valueOf(ts.get("dtype")), shape));
    }
    return out;
  }

  /**
   * Where the MLmodel's signature and the ONNX graph's disagree: names, element types, ranks and
   * fixed dimensions.
   */
  List<String> mismatches(ModelSignature graph) {
    List<String> out = new ArrayList<>();
    compare("input", inputs, graph.inputs(), out);
    compare("output", outputs, graph.outputs(), out);
    return out;
  }

  private static void compare(
      String side, List<Spec> specs, List<TensorSpec> graph, List<String> out) {
    for (int i = 0; i < specs.size(); i++) {
      Spec s = specs.get(i);
      Optional<TensorSpec> g =
          s.name().isEmpty() && i < graph.size()
              ? Optional.of(graph.get(i))
              : graph.stream().filter(t -> t.name().equals(s.name())).findFirst();
      String described = s.dtype() + s.shape();
      if (g.isEmpty()) {
        out.add(side + " '" + s.name() + "' (" + described + ") is not in the ONNX graph");
        continue;
      }
      TensorSpec t = g.get();
      String dtype = s.dtype().equals("str") ? "string" : s.dtype();
      boolean shapeOk = s.shape().size() == t.rank();
      for (int d = 0; shapeOk && d < t.rank(); d++) {
        long a = s.shape().get(d);
        long b = t.dim(d);
        shapeOk = a < 0 || b < 0 || a == b;
      }
      if (!dtype.equals(t.type().onnxName()) || !shapeOk) {
        out.add(
            side
                + " '"
                + t.name()
                + "': the MLmodel says "
                + described
                + " but the ONNX graph has "
                + t.describe());
      }
    }
  }
}
