package dev.mlops.runtime.onnx;

import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns ONNX Runtime's error texts into messages that say what happened and what to do. ONNX
 * Runtime's text starts with its error code, repeats the model's absolute path and names the C++
 * source line and function that threw; all that stays in the {@code OrtException} the caller gets
 * as the cause, and only the sentence that explains the failure is kept here. The patterns are
 * those of ONNX Runtime 1.29.0; a text that matches none is passed on stripped of that framing.
 */
final class NativeErrors {

  private NativeErrors() {}

  /** The default domain's name in messages; models write it as the empty string. */
  static final String DEFAULT_DOMAIN = "ai.onnx";

  private static final Pattern ERROR_CODE =
      Pattern.compile("^\\s*Error code - ORT_\\w+ - message:\\s*");
  private static final Pattern LOAD_MODEL_FROM = Pattern.compile("Load model from .*? failed:\\s*");
  // How a Status renders itself; a status rethrown as an exception carries it mid-message.
  private static final Pattern ORT_ERROR_TAG =
      Pattern.compile("\\[ONNXRuntimeError\\] : \\d+ : \\w+ : ");
  // A source location as ONNX Runtime's CodeLocation prints it: path/file.cc:123, always followed
  // by a space and the function, which is either a bare name or a full C++ signature.
  private static final Pattern SOURCE_LOCATION =
      Pattern.compile("(?:/[^\\s:]*/)?[\\w.+-]+\\.(?:cc|cpp|cxx|c|h|hpp|cu|cuh|inc|mm):\\d+ ");
  private static final Pattern SIGNATURE_HEAD = Pattern.compile("[\\w:<>,*&~ \\[\\]]*::[\\w~<>]+");
  // A bare name, as __FUNCTION__ gives it; a lambda's is "operator()".
  private static final Pattern BARE_FUNCTION = Pattern.compile("[A-Za-z_][\\w:~]*(?:\\(\\))? ");

  private static final Pattern PARSE_FAILED = Pattern.compile("Protobuf parsing failed");
  private static final Pattern NO_GRAPH = Pattern.compile("ModelProto does not have a graph");
  private static final Pattern NO_SUCH_FILE = Pattern.compile("File doesn't exist");
  private static final Pattern OPSET_TOO_NEW =
      Pattern.compile(
          "Opset (\\d+) is under development.*?Current official support for domain (\\S*) is till opset (\\d+)",
          Pattern.DOTALL);
  private static final Pattern IR_TOO_NEW =
      Pattern.compile("Unsupported model IR version: (\\d+), max supported IR version: (\\d+)");
  private static final Pattern NOT_REGISTERED =
      Pattern.compile(
          "Fatal error: ([^\\s:]*):([^\\s(]+)\\((-?\\d+)\\) is not a registered function/op");
  // In Node, ("name", OpType, "domain", since_version) : inputs -> outputs , Error reason
  private static final Pattern IN_NODE =
      Pattern.compile(
          "In Node, \\(\"([^\"]*)\", ([^,\\s]+), \"([^\"]*)\", (-?\\d+)\\) : .*? , Error (.*)",
          Pattern.DOTALL);
  private static final Pattern NO_OP_REGISTERED =
      Pattern.compile("No Op registered for (\\S+) with domain_version of (\\d+)");
  private static final Pattern NO_OPSET_IMPORT =
      Pattern.compile("No opset import for domain '([^']*)'");
  private static final Pattern NO_KERNEL =
      Pattern.compile(
          "Could not find an implementation for ([^\\s(]+)\\((\\d+)\\) node with name '([^']*)'");
  private static final Pattern LOCALE =
      Pattern.compile("Failed to construct locale with name:([^:]*):");
  private static final Pattern LOCALE_OPERATOR = Pattern.compile("onnxruntime::(\\w+)::Locale");
  private static final Pattern RUNNING_NODE =
      Pattern.compile(
          "Non-zero status code returned while running (\\S+) node\\. Name:'([^']*)' Status Message: ");

  /**
   * Why ONNX Runtime refused to load a model, to follow {@code "ONNX Runtime cannot load <name>:
   * "}.
   *
   * @param ortMessage the {@code OrtException}'s message
   * @param file the path ONNX Runtime was given, which its text may repeat
   * @param name the model file relative to its artifact directory, to use instead
   * @param runtime {@code "ONNX Runtime 1.29.0"}, or {@code "this ONNX Runtime"} if the version is
   *     unknown
   * @param importedOpset the opset the model imports for a domain ({@code ai.onnx} for the default
   *     one), read only when ONNX Runtime's text leaves it out
   */
  static String load(
      String ortMessage,
      String file,
      String name,
      String runtime,
      Function<String, OptionalLong> importedOpset) {
    String text = ortMessage == null ? "" : ortMessage;
    try {
      return classify(text, file, name, runtime, importedOpset);
    } catch (RuntimeException e) {
      // A text that looked like a known one but was not (say, a version past a long): the
      // caller still gets ONNX Runtime's sentence rather than an error about the error.
      return strip(text, file, name);
    }
  }

  private static String classify(
      String text,
      String file,
      String name,
      String runtime,
      Function<String, OptionalLong> importedOpset) {
    Matcher m;
    if (PARSE_FAILED.matcher(text).find()) {
      return "it is not a valid ONNX model: its bytes do not parse as an ONNX ModelProto (a truncated or corrupted "
          + "file, or another format); expected a serialized .onnx model";
    }
    if (NO_GRAPH.matcher(text).find()) {
      return "it is not a valid ONNX model: it has no graph (an empty or truncated file, or another format); "
          + "expected a serialized .onnx model";
    }
    if (NO_SUCH_FILE.matcher(text).find()) {
      return "the file does not exist in the artifact directory";
    }
    if ((m = OPSET_TOO_NEW.matcher(text)).find()) {
      String max = m.group(3);
      return "it uses opset "
          + m.group(1)
          + " of domain "
          + domain(m.group(2))
          + ", but "
          + runtime
          + " supports that domain up to opset "
          + max
          + "; re-export the model with opset "
          + max
          + " or lower, or use a newer ONNX Runtime";
    }
    if ((m = IR_TOO_NEW.matcher(text)).find()) {
      String max = m.group(2);
      return "it has IR version "
          + m.group(1)
          + ", but "
          + runtime
          + " reads IR versions up to "
          + max
          + "; re-export the model with IR version "
          + max
          + " or lower, or use a newer ONNX Runtime";
    }
    if ((m = NOT_REGISTERED.matcher(text)).find()) {
      String domain = domain(m.group(1));
      String op = m.group(2);
      long version = Long.parseLong(m.group(3));
      // ONNX Runtime prints -1 when it did not resolve the version; the model's import says it.
      OptionalLong opset = version >= 0 ? OptionalLong.of(version) : importedOpset.apply(domain);
      String what =
          "operator "
              + op
              + " of domain "
              + domain
              + (opset.isPresent() ? " (opset " + opset.getAsLong() + ")" : "");
      if (isTrainingDomain(domain)) {
        return what
            + " is a training-only operator, which an inference runtime such as "
            + runtime
            + " does not run; export the model for inference, without its training (optimizer or gradient) nodes";
      }
      if (isStandardDomain(domain)) {
        return what
            + " is not available in "
            + runtime
            + "; re-export the model with operators it has, or use a newer ONNX Runtime";
      }
      return what
          + " is not available in "
          + runtime
          + "; it needs the custom-operator library that defines "
          + "domain "
          + domain
          + ", or re-export the model with standard ONNX operators";
    }
    if ((m = IN_NODE.matcher(text)).find()) {
      String node = m.group(1);
      String op = m.group(2);
      String domain = domain(m.group(3));
      String error = m.group(5).strip();
      String who = node.isEmpty() ? "a node" : "node '" + node + "'";
      Matcher e;
      if ((e = NO_OP_REGISTERED.matcher(error)).find()) {
        String opset = e.group(2);
        return who
            + " uses operator "
            + e.group(1)
            + " of domain "
            + domain
            + " at opset "
            + opset
            + ", which "
            + runtime
            + " does not define; check the operator's name and the opset the model imports for "
            + domain
            + " (an operator added in a later opset needs that opset), or re-export the model with standard "
            + "operators";
      }
      if ((e = NO_OPSET_IMPORT.matcher(error)).find()) {
        return who
            + " uses operator "
            + op
            + " of domain "
            + domain(e.group(1))
            + ", but the model imports no opset for that domain; re-export the model with an opset import for it";
      }
      return who
          + " (operator "
          + op
          + " of domain "
          + domain
          + ") is invalid: "
          + strip(error, file, name);
    }
    if ((m = NO_KERNEL.matcher(text)).find()) {
      String node = m.group(3);
      return (node.isEmpty() ? "a node" : "node '" + node + "'")
          + " uses operator "
          + m.group(1)
          + " at opset "
          + m.group(2)
          + ", which has no implementation in "
          + runtime
          + " for the element types it is given "
          + "here; re-export the model with element types that "
          + runtime
          + " implements for "
          + m.group(1)
          + " (float32, for most operators)";
    }
    if ((m = LOCALE.matcher(text)).find()) {
      Matcher op = LOCALE_OPERATOR.matcher(text);
      String who = op.find() ? "operator " + op.group(1) : "an operator";
      String locale = m.group(1);
      return who
          + " needs locale "
          + locale
          + ", which this host lacks; install locale "
          + locale
          + " on the host (its language pack, or locale-gen), or re-export the model with a locale the host has";
    }
    return strip(text, file, name);
  }

  /**
   * What went wrong in a run, to follow {@code "ONNX Runtime failed to run the model: "}: the
   * innermost failing node (ONNX Runtime nests the error of a node inside an {@code If} or {@code
   * Loop} in the error of that node) and its reason.
   */
  static String run(String ortMessage) {
    String text = ortMessage == null ? "" : ortMessage;
    Matcher m = RUNNING_NODE.matcher(text);
    String op = null;
    String node = null;
    int end = -1;
    while (m.find()) {
      op = m.group(1);
      node = m.group(2);
      end = m.end();
    }
    if (op == null) {
      return strip(text, null, null);
    }
    String reason = strip(text.substring(end), null, null);
    return "node " + op + (node.isEmpty() ? "" : " (name '" + node + "')") + ": " + reason;
  }

  /**
   * ONNX Runtime's text without its error-code header, the {@code Load model from <path> failed:}
   * that repeats the path, source locations and C++ function names; {@code file}, if given and
   * still present, replaced by {@code name}.
   */
  static String strip(String ortMessage, String file, String name) {
    String s = ortMessage == null ? "" : ortMessage;
    s = ERROR_CODE.matcher(s).replaceFirst("");
    if (file != null) {
      s = s.replace("Load model from " + file + " failed:", "");
    }
    s = LOAD_MODEL_FROM.matcher(s).replaceAll("");
    s = ORT_ERROR_TAG.matcher(s).replaceAll("");
    s = withoutSourceLocations(s);
    if (file != null && name != null && !file.isEmpty()) {
      s = s.replace(file, name);
    }
    s = s.strip();
    return s.isEmpty() ? "ONNX Runtime gave no reason" : s;
  }

  private static String withoutSourceLocations(String s) {
    StringBuilder out = new StringBuilder(s.length());
    Matcher m = SOURCE_LOCATION.matcher(s);
    int from = 0;
    while (m.find(from)) {
      out.append(s, from, m.start());
      from = afterFunction(s, m.end());
    }
    out.append(s, from, s.length());
    return out.toString();
  }

  /**
   * Where the function after a source location ends: a full signature such as {@code void
   * onnxruntime::Foo::Bar(const std::string&, int) const}, with a lambda or template suffix, or a
   * bare name such as {@code ValidateShape}. Returns {@code at} if neither follows.
   */
  static int afterFunction(String s, int at) {
    int paren = s.indexOf('(', at);
    if (paren > at && SIGNATURE_HEAD.matcher(s).region(at, paren).matches()) {
      int i = closing(s, paren);
      // operator()(int) has a second parameter list.
      if (i > 0 && i < s.length() && s.charAt(i) == '(') {
        i = closing(s, i);
      }
      if (i > 0) {
        // ::<lambda()> and the like, then " const", then a template's " [with T = float]".
        while (s.startsWith("::", i)) {
          i += 2;
          int depth = 0;
          while (i < s.length() && (depth > 0 || s.charAt(i) != ' ')) {
            char c = s.charAt(i);
            if (c == '(' || c == '<' || c == '[') {
              depth++;
            } else if ((c == ')' || c == '>' || c == ']') && depth > 0) {
              depth--;
            }
            i++;
          }
        }
        if (s.startsWith(" const", i)) {
          i += " const".length();
        }
        if (s.startsWith(" [with ", i)) {
          int close = s.indexOf(']', i);
          i = close < 0 ? i : close + 1;
        }
        while (i < s.length() && s.charAt(i) == ' ') {
          i++;
        }
        return i;
      }
    }
    Matcher bare = BARE_FUNCTION.matcher(s).region(at, s.length());
    return bare.lookingAt() ? bare.end() : at;
  }

  /** The index after the parenthesis that closes the one at {@code open}, or -1. */
  private static int closing(String s, int open) {
    int depth = 0;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        return i + 1;
      }
    }
    return -1;
  }

  static String domain(String domain) {
    return domain.isEmpty() ? DEFAULT_DOMAIN : domain;
  }

  private static boolean isTrainingDomain(String domain) {
    String d = domain.toLowerCase(Locale.ROOT);
    return d.equals("ai.onnx.preview.training") || d.equals("ai.onnx.training");
  }

  private static boolean isStandardDomain(String domain) {
    return domain.equals(DEFAULT_DOMAIN)
        || domain.equals("ai.onnx.ml")
        || domain.startsWith("ai.onnx.")
        || domain.equals("com.microsoft")
        || domain.startsWith("com.microsoft.");
  }
}
