package dev.mlops.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The texts ONNX Runtime 1.29.0 gives, literally as its Java API reports them. */
class NativeErrorsTest {

  private static final String FILE = "/srv/mlops/staging/123-4f1c/files/model.onnx";
  private static final String NAME = "files/model.onnx";
  private static final String RT = "ONNX Runtime 1.29.0";
  private static final Function<String, OptionalLong> NO_IMPORTS = d -> OptionalLong.empty();

  private final List<String> opsetLookups = new ArrayList<>();

  private String load(String ort) {
    return NativeErrors.load(ort, FILE, NAME, RT, NO_IMPORTS);
  }

  private String load(String ort, String domain, long version) {
    return NativeErrors.load(
        ort,
        FILE,
        NAME,
        RT,
        d -> {
          opsetLookups.add(d);
          return d.equals(domain) ? OptionalLong.of(version) : OptionalLong.empty();
        });
  }

  @Test
  void opsetNewerThanTheRuntimeNamesBothOpsetsAndTheDomain() {
    String ort =
        "Error code - ORT_FAIL - message: Load model from "
            + FILE
            + " failed:/onnxruntime_src/onnxruntime/"
            + "core/graph/model_load_utils.h:46 void onnxruntime::model_load_utils::ValidateOpsetForDomain(const std::"
            + "unordered_map<std::__cxx11::basic_string<char>, int>&, const onnxruntime::logging::Logger&, bool, const "
            + "std::string&, int) ONNX Runtime only *guarantees* support for models stamped with official released onnx "
            + "opset versions. Opset 30 is under development and support for this is limited. The operator schemas and or "
            + "other functionality may change before next ONNX release and in this case ONNX Runtime will not guarantee "
            + "backward compatibility. Current official support for domain ai.onnx is till opset 26.\n";

    assertThat(load(ort))
        .isEqualTo(
            "it uses opset 30 of domain ai.onnx, but ONNX Runtime 1.29.0 supports that "
                + "domain up to opset 26; re-export the model with opset 26 or lower, or use a newer ONNX Runtime");
    assertThat(NativeErrors.load(ort, FILE, NAME, "this ONNX Runtime", NO_IMPORTS))
        .contains("but this ONNX Runtime supports that domain up to opset 26");
  }

  @Test
  void trainingOperatorTakesItsOpsetFromTheModelBecauseOnnxRuntimePrintsMinusOne() {
    String ort =
        "Error code - ORT_FAIL - message: Load model from "
            + FILE
            + " failed:Fatal error: "
            + "ai.onnx.preview.training:Adagrad(-1) is not a registered function/op";

    assertThat(load(ort, "ai.onnx.preview.training", 1))
        .isEqualTo(
            "operator Adagrad of domain "
                + "ai.onnx.preview.training (opset 1) is a training-only operator, which an inference runtime such as ONNX "
                + "Runtime 1.29.0 does not run; export the model for inference, without its training (optimizer or gradient) "
                + "nodes");
    assertThat(opsetLookups).containsExactly("ai.onnx.preview.training");
    assertThat(load(ort))
        .startsWith("operator Adagrad of domain ai.onnx.preview.training is a training-only");
  }

  @Test
  void operatorOfACustomDomainNeedsTheLibraryThatDefinesIt() {
    String ort =
        "Error code - ORT_FAIL - message: Load model from "
            + FILE
            + " failed:Fatal error: "
            + "com.example:Frob(-1) is not a registered function/op";

    assertThat(load(ort, "com.example", 3))
        .isEqualTo(
            "operator Frob of domain com.example (opset 3) is not "
                + "available in ONNX Runtime 1.29.0; it needs the custom-operator library that defines domain com.example, or "
                + "re-export the model with standard ONNX operators");
  }

  @Test
  void unregisteredOperatorOfAStandardDomainIsNotBlamedOnACustomLibrary() {
    String ort =
        "Error code - ORT_FAIL - message: Load model from "
            + FILE
            + " failed:Fatal error: "
            + "ai.onnx.ml:Frobnicator(2) is not a registered function/op";

    assertThat(load(ort, "ai.onnx.ml", 5))
        .isEqualTo(
            "operator Frobnicator of domain ai.onnx.ml (opset 2) is not "
                + "available in ONNX Runtime 1.29.0; re-export the model with operators it has, or use a newer ONNX Runtime");
    assertThat(opsetLookups).as("ONNX Runtime gave the version").isEmpty();
  }

  @Test
  void unknownOperatorOfTheDefaultDomainNamesTheNodeTheOperatorAndTheOpset() {
    String ort =
        "Error code - ORT_INVALID_GRAPH - message: Load model from "
            + FILE
            + " failed:This is an invalid "
            + "model. In Node, (\"\", FrobnicateV2, \"\", -1) : (\"x\": tensor(float),) -> (\"y\": tensor(float),) , "
            + "Error No Op registered for FrobnicateV2 with domain_version of 13";

    assertThat(load(ort))
        .isEqualTo(
            "a node uses operator FrobnicateV2 of domain ai.onnx at opset 13, which ONNX "
                + "Runtime 1.29.0 does not define; check the operator's name and the opset the model imports for ai.onnx (an "
                + "operator added in a later opset needs that opset), or re-export the model with standard operators");
    assertThat(load(ort.replace("(\"\", FrobnicateV2", "(\"node0\", FrobnicateV2")))
        .startsWith("node 'node0' uses operator FrobnicateV2 of domain ai.onnx at opset 13");
  }

  @Test
  void operatorWithoutAKernelForItsTypesNamesTheNodeTheOperatorAndItsOpset() {
    String ort =
        "Error code - ORT_NOT_IMPLEMENTED - message: Could not find an implementation for Softplus(1) node "
            + "with name 'softplus'";

    assertThat(load(ort))
        .isEqualTo(
            "node 'softplus' uses operator Softplus at opset 1, which has no "
                + "implementation in ONNX Runtime 1.29.0 for the element types it is given here; re-export the model with "
                + "element types that ONNX Runtime 1.29.0 implements for Softplus (float32, for most operators)");
    assertThat(
            load(
                "Error code - ORT_NOT_IMPLEMENTED - message: Could not find an implementation for Erf(13) node "
                    + "with name ''"))
        .startsWith("a node uses operator Erf at opset 13, which has no implementation");
  }

  @Test
  void localeTheHostLacksNamesTheOperatorAndTheLocale() {
    String ort =
        "Error code - ORT_FAIL - message: Exception during initialization: /onnxruntime_src/onnxruntime/"
            + "core/providers/cpu/text/string_normalizer.cc:235 onnxruntime::StringNormalizer::Locale::Locale(const "
            + "std::string&)::<lambda()> Failed to construct locale with name:xx_YY:locale::facet::_S_create_c_locale "
            + "name not valid:Please, install necessary language-pack-XX and configure locales\n";

    assertThat(load(ort))
        .isEqualTo(
            "operator StringNormalizer needs locale xx_YY, which this host lacks; install "
                + "locale xx_YY on the host (its language pack, or locale-gen), or re-export the model with a locale the host "
                + "has");
  }

  @Test
  void bytesThatDoNotParseAreTheOnlyCaseCalledNotAValidOnnxModel() {
    assertThat(
            load(
                "Error code - ORT_INVALID_PROTOBUF - message: Load model from "
                    + FILE
                    + " failed:Protobuf "
                    + "parsing failed."))
        .isEqualTo(
            "it is not a valid ONNX model: its bytes do not parse as an ONNX ModelProto "
                + "(a truncated or corrupted file, or another format); expected a serialized .onnx model");
    assertThat(
            load(
                "Error code - ORT_FAIL - message: Load model from "
                    + FILE
                    + " failed:/onnxruntime_src/"
                    + "onnxruntime/core/graph/model.cc:177 onnxruntime::Model::Model(onnx::ModelProto&&, const onnxruntime::"
                    + "PathString&, const onnxruntime::IOnnxRuntimeOpSchemaRegistryList*, const onnxruntime::logging::Logger&, "
                    + "const onnxruntime::ModelOptions&) ModelProto does not have a graph.\n"))
        .isEqualTo(
            "it is not a valid ONNX model: it has no graph (an empty or truncated file, or another format); "
                + "expected a serialized .onnx model");
  }

  @Test
  void irVersionNewerThanTheRuntimeNamesBothVersions() {
    String ort =
        "Error code - ORT_FAIL - message: Load model from "
            + FILE
            + " failed:/onnxruntime_src/onnxruntime/"
            + "core/graph/model.cc:192 onnxruntime::Model::Model(onnx::ModelProto&&, const onnxruntime::PathString&, "
            + "const onnxruntime::IOnnxRuntimeOpSchemaRegistryList*, const onnxruntime::logging::Logger&, const "
            + "onnxruntime::ModelOptions&) Unsupported model IR version: 99, max supported IR version: 13\n";

    assertThat(load(ort))
        .isEqualTo(
            "it has IR version 99, but ONNX Runtime 1.29.0 reads IR versions up to 13; "
                + "re-export the model with IR version 13 or lower, or use a newer ONNX Runtime");
  }

  @Test
  void missingFileSaysSoWithoutThePath() {
    assertThat(
            load(
                "Error code - ORT_NO_SUCHFILE - message: Load model from "
                    + FILE
                    + " failed:Load model "
                    + FILE
                    + " failed. File doesn't exist"))
        .isEqualTo("the file does not exist in the artifact directory");
  }

  @Test
  void anyOtherTextIsOnnxRuntimesSentenceWithoutCodePathLocationOrSignature() {
    assertThat(
            load(
                "Error code - ORT_FAIL - message: Exception during initialization: /onnxruntime_src/onnxruntime/"
                    + "core/optimizer/initializer.cc:51 onnxruntime::Initializer::Initializer(const onnx::TensorProto&, const "
                    + "std::filesystem::__cxx11::path&) [ONNXRuntimeError] : 1 : FAIL : tensorprotoutils.cc:1459 "
                    + "ValidateEmbeddedTensorProtoDataSizeAndShape Initializer 'W': raw_data size (3 bytes) does not match "
                    + "expected size from shape and data type (12 bytes)\n"))
        .isEqualTo(
            "Exception during initialization: Initializer 'W': raw_data size (3 bytes) does not match "
                + "expected size from shape and data type (12 bytes)");
    assertThat(
            load(
                "Error code - ORT_FAIL - message: Exception during initialization: /onnxruntime_src/onnxruntime/"
                    + "core/framework/session_state_utils.cc:264 onnxruntime::common::Status onnxruntime::session_state_utils::"
                    + "SaveInitializedTensors(const onnxruntime::Env&, const std::__cxx11::basic_string<char>&, const "
                    + "onnxruntime::GraphViewer&, const MemoryProfileFunction&, onnxruntime::PrepackedWeightsForGraph&) "
                    + "ort_value_name_idx_map.MaxIdx() > -1 was false. OrtValue indexes should have been populated.\n"))
        .isEqualTo(
            "Exception during initialization: ort_value_name_idx_map.MaxIdx() > -1 was false. OrtValue "
                + "indexes should have been populated.");
    assertThat(
            load(
                "Error code - ORT_FAIL - message: Load model from "
                    + FILE
                    + " failed:This is an invalid "
                    + "model. Error: the graph is not acyclic."))
        .isEqualTo("This is an invalid model. Error: the graph is not " + "acyclic.");
    assertThat(
            load(
                "Error code - ORT_INVALID_GRAPH - message: Load model from "
                    + FILE
                    + " failed:This is an "
                    + "invalid model. In Node, (\"node0\", Add, \"\", -1) : (\"x\": tensor(float),) -> (\"y\": tensor(float),) , "
                    + "Error Node(node0) with schema(::Add:13) has input size 1 not in range [min=2, max=2]."))
        .isEqualTo(
            "node 'node0' (operator Add of domain ai.onnx) is invalid: Node(node0) with schema(::Add:13) has "
                + "input size 1 not in range [min=2, max=2].");
    assertThat(load("Error code - ORT_FAIL - message: something new at " + FILE))
        .isEqualTo("something new at " + NAME);
    assertThat(load(null)).isEqualTo("ONNX Runtime gave no reason");
    assertThat(
            load(
                "Error code - ORT_FAIL - message: Fatal error: x:Op(99999999999999999999) is not a registered "
                    + "function/op"))
        .isEqualTo("Fatal error: x:Op(99999999999999999999) is not a registered function/op");
  }

  @Test
  void signaturesOfConstMembersLambdasAndOperatorsAreStrippedWholly() {
    assertThat(
            NativeErrors.strip(
                "a.cc:1 void onnxruntime::X::Run(int) const Shape mismatch", null, null))
        .isEqualTo("Shape mismatch");
    assertThat(
            NativeErrors.strip(
                "b.h:2 onnxruntime::F<T>::operator()(const T&) [with T = float] Bad value",
                null,
                null))
        .isEqualTo("Bad value");
    assertThat(
            NativeErrors.strip(
                "/x/y/z.cc:30 onnxruntime::Foo()::<lambda(int)> Out of range", null, null))
        .isEqualTo("Out of range");
    assertThat(NativeErrors.strip("plain text with (parens) and a::b", null, null))
        .isEqualTo("plain text with (parens) and a::b");
  }

  @Test
  void runErrorReportsTheInnermostNodeAndItsReason() {
    String nested =
        "Error code - ORT_INVALID_ARGUMENT - message: Non-zero status code returned while running If "
            + "node. Name:'If_25' Status Message: Non-zero status code returned while running Pad node. Name:'Pad_537' "
            + "Status Message: Pad reflect requires axis length >= 2 after slicing. Input shape:{1,1}";

    assertThat(NativeErrors.run(nested))
        .isEqualTo(
            "node Pad (name 'Pad_537'): Pad reflect requires axis length >= "
                + "2 after slicing. Input shape:{1,1}");
    assertThat(
            NativeErrors.run(
                "Error code - ORT_INVALID_ARGUMENT - message: Non-zero status code returned while "
                    + "running Pad node. Name:'' Status Message: Pad reflect requires axis length >= 2 after slicing. Input "
                    + "shape:{1,1}"))
        .isEqualTo(
            "node Pad: Pad reflect requires axis length >= 2 after slicing. Input shape:{1,1}");
    assertThat(
            NativeErrors.run(
                "Error code - ORT_FAIL - message: Non-zero status code returned while running Mod "
                    + "node. Name:'' Status Message: element_wise_ops.cc:2256 operator() Integer modulo by zero"))
        .isEqualTo("node Mod: Integer modulo by zero");
    assertThat(
            NativeErrors.run(
                "Error code - ORT_INVALID_ARGUMENT - message: Got invalid dimensions for input: x "
                    + "for the following indices\n index: 1 Got: 4 Expected: 3\n Please fix either the inputs/outputs or the "
                    + "model."))
        .isEqualTo(
            "Got invalid dimensions for input: x for the following indices\n index: 1 Got: 4 "
                + "Expected: 3\n Please fix either the inputs/outputs or the model.");
  }
}
