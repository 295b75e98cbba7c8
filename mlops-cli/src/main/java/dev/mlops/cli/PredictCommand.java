package dev.mlops.cli;

import dev.mlops.api.Codecs;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Tensor;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code predict}: JSON in, JSON out, on any version or alias. */
@Command(
    name = "predict",
    mixinStandardHelpOptions = true,
    description = {
      "Run a version on JSON inputs and print its outputs as JSON:"
          + " {\"model\", \"version\", \"outputs\": {name: nested array}}. The inputs are the rows"
          + " of a one-input model ([[...], ...]), an object of input name to nested array, or"
          + " MLflow's {\"inputs\": ...}. The version is loaded as a service loads it: verified,"
          + " opened and warmed up."
    },
    footer = {
      "",
      "Examples:",
      "  mlops predict cancer@production --input rows.json",
      "  echo '[[12.75, 16.7, ...]]' | mlops predict cancer/3"
    })
final class PredictCommand extends Base {

  @Parameters(paramLabel = "REF", description = "The version: cancer/3, cancer@production.")
  String ref;

  @Option(
      names = {"-i", "--input"},
      paramLabel = "FILE",
      description = "The JSON inputs; - (the default) reads stdin.")
  String input = "-";

  @Option(names = "--data", paramLabel = "JSON", description = "The JSON inputs, inline.")
  String data;

  @Option(names = "--json", description = "Accepted for symmetry: the output is always JSON.")
  boolean json;

  @Override
  int run(GovernedRegistry registry) throws IOException {
    String text;
    String what;
    if (data != null) {
      text = data;
      what = "--data";
    } else if (input.equals("-")) {
      text = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
      what = "stdin";
    } else {
      text = Files.readString(Path.of(input), StandardCharsets.UTF_8);
      what = input;
    }
    Object parsed;
    try {
      parsed = Json.parse(text.strip());
    } catch (IllegalArgumentException e) {
      throw new CliException(what + ": expected JSON but found: " + e.getMessage(), e);
    }
    ModelVersion target = registry.get(ref(ref));
    Map<String, Tensor> inputs = JsonTensors.inputs(parsed, target.signature(), what);
    try (Mlops mlops = Mlops.builder().registry(registry).engine(engine).build();
        Predictor<Map<String, Tensor>, Map<String, Tensor>> predictor =
            mlops.predictor(ref(ref), Codecs.tensors())) {
      Prediction<Map<String, Tensor>> p = predictor.predict(inputs);
      Map<String, Object> outputs = new LinkedHashMap<>();
      p.value().forEach((name, t) -> outputs.put(name, JsonTensors.toJson(t)));
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model", p.model());
      m.put("version", p.version());
      m.put("outputs", outputs);
      Output.json(out(), m);
    }
    return 0;
  }
}
