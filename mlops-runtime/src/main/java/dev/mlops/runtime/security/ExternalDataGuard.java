package dev.mlops.runtime.security;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.UnsafeModelException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks every external-data reference of an ONNX model before ONNX Runtime opens it, so that a
 * model can read only files of its own version.
 *
 * <p>The scan reads the model's protobuf (no library; large {@code raw_data} is skipped, not read)
 * and visits every tensor that can carry external data: graph initializers and sparse initializers,
 * tensors in node attributes ({@code Constant} values, tensor lists, sparse tensors), subgraphs at
 * any depth ({@code If}, {@code Loop}, {@code Scan} bodies), model-local functions and
 * training-info graphs. Each reference must satisfy all of these rules, or the scan throws {@link
 * UnsafeModelException} naming the tensor, the location and the rule:
 *
 * <ul>
 *   <li>the location is a non-empty relative path with {@code /} separators: not absolute, no drive
 *       letter, no backslash, no NUL, no {@code ..} segment (even one that would stay inside), not
 *       ONNX Runtime's in-memory marker;
 *   <li>resolved against the model file's directory, no component is a symbolic link (neither the
 *       file nor a parent directory), the file exists, is a regular file with a single hard link,
 *       and its real path lies inside the artifact directory;
 *   <li>the file is in the version's manifest;
 *   <li>{@code offset} and {@code length} are non-negative decimal integers and {@code offset +
 *       length} (or {@code offset} + the bytes the tensor's shape and type need, when no length is
 *       given) lies within the file; a given length is not shorter than the shape needs.
 * </ul>
 *
 * <p>A model file that is not a valid protobuf is refused with {@link ModelLoadException}. Model
 * files in ONNX Runtime's own {@code .ort} format cannot be checked and are refused.
 *
 * <p>The check is about paths and sizes only; it does not make ONNX Runtime's parser safe against a
 * malicious model (see {@code SECURITY.md}), and it cannot stop a process that may write the
 * artifact directory from swapping a file after the check. Stateless and thread-safe.
 */
public final class ExternalDataGuard {

  private static final Logger LOG = LoggerFactory.getLogger(ExternalDataGuard.class);

  /** ONNX Runtime reads tensors with this location from a memory address given as the offset. */
  static final String ORT_MEMORY_ADDRESS_TAG = "*/_ORT_MEM_ADDR_/*";

  private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,19}");
  private static final int MAX_DEPTH = 100;
  private static final int MAX_STRING = 4096;

  /**
   * One external-data reference that passed every rule.
   *
   * @param tensor where the tensor sits, e.g. {@code initializer 'W'} or {@code node 'if0' (If)
   *     attribute 'then_branch' > initializer 'W'}
   * @param location the location as written in the model
   * @param path the file's path relative to the artifact directory, with {@code /} separators
   * @param offset the offset in bytes
   * @param length the length in bytes, if the model gives one
   */
  public record Reference(
      String tensor, String location, String path, long offset, OptionalLong length) {}

  private ExternalDataGuard() {}

  /**
   * Checks a model whose manifest is every regular file under the artifact directory: what an
   * engine does when it is handed a location without a manifest.
   *
   * @return the references found, in model order
   * @throws UnsafeModelException if a reference breaks a rule
   * @throws ModelLoadException if the model file cannot be read or is not a valid protobuf
   */
  public static List<Reference> check(ArtifactLocation artifact) {
    return check(artifact, null);
  }

  /**
   * Checks a model against the manifest of its version.
   *
   * @param artifact the artifact directory and model file
   * @param manifestPaths the version's file paths relative to the artifact directory ({@code /}
   *     separators); {@code null} accepts any regular file under the directory
   * @return the references found, in model order
   * @throws UnsafeModelException if a reference breaks a rule
   * @throws ModelLoadException if the model file cannot be read or is not a valid protobuf
   */
  public static List<Reference> check(ArtifactLocation artifact, Collection<String> manifestPaths) {
    Objects.requireNonNull(artifact, "artifact");
    Set<String> manifest = manifestPaths == null ? null : new HashSet<>(manifestPaths);
    Path modelFile = artifact.modelFile();
    // Messages name the file as the user knows it, relative to the artifact: at registration the
    // directory is a staging copy that is gone by the time anyone reads the message.
    Path shown = artifact.directory().relativize(modelFile);
    if (modelFile.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".ort")) {
      throw new UnsafeModelException(
          "model file "
              + shown
              + " is in ONNX Runtime's .ort format, whose external "
              + "data cannot be checked; register the .onnx model instead");
    }
    try {
      Path root = artifact.directory().toRealPath();
      if (Files.isSymbolicLink(modelFile)
          || !Files.isRegularFile(modelFile, LinkOption.NOFOLLOW_LINKS)) {
        throw new ModelLoadException(
            "model file " + shown + " does not exist or is not a regular file");
      }
      Path realModel = modelFile.toRealPath();
      if (!realModel.startsWith(root)) {
        throw new UnsafeModelException(
            "model file "
                + shown
                + " resolves to "
                + realModel
                + ", outside the artifact directory "
                + root);
      }
      Predicate<String> inManifest = manifest == null ? p -> true : manifest::contains;
      try (FileChannel ch =
          FileChannel.open(modelFile, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
        Scan scan =
            new Scan(new ProtoScanner(ch, shown), root, realModel.getParent(), shown, inManifest);
        scan.model();
        if (!scan.found.isEmpty()) {
          LOG.debug("{} external-data references of {} checked", scan.found.size(), modelFile);
        }
        return List.copyOf(scan.found);
      }
    } catch (NoSuchFileException e) {
      throw new ModelLoadException("model file " + shown + " does not exist: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read model file " + shown + ": " + e, e);
    }
  }

  /** One scan of one model file. */
  private static final class Scan {
    private final ProtoScanner in;
    private final Path root;
    private final Path base;
    private final Path modelFile;
    private final Predicate<String> inManifest;
    final List<Reference> found = new ArrayList<>();

    Scan(ProtoScanner in, Path root, Path base, Path modelFile, Predicate<String> inManifest) {
      this.in = in;
      this.root = root;
      this.base = base;
      this.modelFile = modelFile;
      this.inManifest = inManifest;
    }

    void model() throws IOException {
      List<ProtoScanner.Range> graph = new ArrayList<>();
      List<ProtoScanner.Range> functions = new ArrayList<>();
      List<ProtoScanner.Range> training = new ArrayList<>();
      in.fields(
          in.whole(),
          (n, wire, v, r) -> {
            if (wire != ProtoScanner.LEN) {
              return;
            }
            switch (n) {
              case 7 -> graph.add(r); // ModelProto.graph (singular: occurrences merge)
              case 20 -> training.add(r); // ModelProto.training_info
              case 25 -> functions.add(r); // ModelProto.functions
              default -> {}
            }
          });
      if (!graph.isEmpty()) {
        graph(graph, "", 0);
      }
      for (ProtoScanner.Range f : functions) {
        function(f, 0);
      }
      for (ProtoScanner.Range t : training) {
        List<ProtoScanner.Range> init = new ArrayList<>();
        List<ProtoScanner.Range> algo = new ArrayList<>();
        in.fields(
            t,
            (n, wire, v, r) -> {
              if (wire == ProtoScanner.LEN && n == 1) {
                init.add(r); // TrainingInfoProto.initialization
              } else if (wire == ProtoScanner.LEN && n == 2) {
                algo.add(r); // TrainingInfoProto.algorithm
              }
            });
        if (!init.isEmpty()) {
          graph(init, "training initialization graph > ", 1);
        }
        if (!algo.isEmpty()) {
          graph(algo, "training algorithm graph > ", 1);
        }
      }
    }

    private void graph(List<ProtoScanner.Range> segments, String where, int depth)
        throws IOException {
      checkDepth(depth);
      List<ProtoScanner.Range> nodes = new ArrayList<>();
      List<ProtoScanner.Range> initializers = new ArrayList<>();
      List<ProtoScanner.Range> sparse = new ArrayList<>();
      in.fields(
          segments,
          (n, wire, v, r) -> {
            if (wire != ProtoScanner.LEN) {
              return;
            }
            switch (n) {
              case 1 -> nodes.add(r); // GraphProto.node
              case 5 -> initializers.add(r); // GraphProto.initializer
              case 15 -> sparse.add(r); // GraphProto.sparse_initializer
              default -> {}
            }
          });
      for (ProtoScanner.Range t : initializers) {
        tensor(List.of(t), where + "initializer");
      }
      for (ProtoScanner.Range s : sparse) {
        sparseTensor(List.of(s), where + "sparse initializer");
      }
      for (ProtoScanner.Range node : nodes) {
        node(node, where, depth);
      }
    }

    private void function(ProtoScanner.Range f, int depth) throws IOException {
      String[] name = {""};
      List<ProtoScanner.Range> nodes = new ArrayList<>();
      List<ProtoScanner.Range> attributes = new ArrayList<>();
      in.fields(
          f,
          (n, wire, v, r) -> {
            if (wire != ProtoScanner.LEN) {
              return;
            }
            switch (n) {
              case 1 -> name[0] = in.string(r, MAX_STRING); // FunctionProto.name
              case 7 -> nodes.add(r); // FunctionProto.node
              case 11 -> attributes.add(r); // FunctionProto.attribute_proto (defaults)
              default -> {}
            }
          });
      String where = "function '" + name[0] + "' > ";
      for (ProtoScanner.Range a : attributes) {
        attribute(a, where + "default ", depth + 1);
      }
      for (ProtoScanner.Range node : nodes) {
        node(node, where, depth + 1);
      }
    }

    private void node(ProtoScanner.Range node, String where, int depth) throws IOException {
      String[] name = {"", ""};
      List<ProtoScanner.Range> attributes = new ArrayList<>();
      in.fields(
          node,
          (n, wire, v, r) -> {
            if (wire != ProtoScanner.LEN) {
              return;
            }
            switch (n) {
              case 3 -> name[0] = in.string(r, MAX_STRING); // NodeProto.name
              case 4 -> name[1] = in.string(r, MAX_STRING); // NodeProto.op_type
              case 5 -> attributes.add(r); // NodeProto.attribute
              default -> {}
            }
          });
      for (ProtoScanner.Range a : attributes) {
        attribute(a, where + "node '" + name[0] + "' (" + name[1] + ") ", depth);
      }
    }

    private void attribute(ProtoScanner.Range a, String where, int depth) throws IOException {
      String[] name = {""};
      List<ProtoScanner.Range> t = new ArrayList<>();
      List<ProtoScanner.Range> g = new ArrayList<>();
      List<ProtoScanner.Range> sparse = new ArrayList<>();
      List<ProtoScanner.Range> tensors = new ArrayList<>();
      List<ProtoScanner.Range> graphs = new ArrayList<>();
      List<ProtoScanner.Range> sparseList = new ArrayList<>();
      in.fields(
          a,
          (n, wire, v, r) -> {
            if (wire != ProtoScanner.LEN) {
              return;
            }
            switch (n) {
              case 1 -> name[0] = in.string(r, MAX_STRING); // AttributeProto.name
              case 5 -> t.add(r); // AttributeProto.t
              case 6 -> g.add(r); // AttributeProto.g
              case 10 -> tensors.add(r); // AttributeProto.tensors
              case 11 -> graphs.add(r); // AttributeProto.graphs
              case 22 -> sparse.add(r); // AttributeProto.sparse_tensor
              case 23 -> sparseList.add(r); // AttributeProto.sparse_tensors
              default -> {}
            }
          });
      String here = where + "attribute '" + name[0] + "'";
      if (!t.isEmpty()) {
        tensor(t, here + " tensor");
      }
      for (ProtoScanner.Range r : tensors) {
        tensor(List.of(r), here + " tensor");
      }
      if (!sparse.isEmpty()) {
        sparseTensor(sparse, here + " sparse tensor");
      }
      for (ProtoScanner.Range r : sparseList) {
        sparseTensor(List.of(r), here + " sparse tensor");
      }
      if (!g.isEmpty()) {
        graph(g, here + " > ", depth + 1);
      }
      for (ProtoScanner.Range r : graphs) {
        graph(List.of(r), here + " > ", depth + 1);
      }
    }

    private void sparseTensor(List<ProtoScanner.Range> segments, String where) throws IOException {
      List<ProtoScanner.Range> values = new ArrayList<>();
      List<ProtoScanner.Range> indices = new ArrayList<>();
      in.fields(
          segments,
          (n, wire, v, r) -> {
            if (wire == ProtoScanner.LEN && n == 1) {
              values.add(r); // SparseTensorProto.values
            } else if (wire == ProtoScanner.LEN && n == 2) {
              indices.add(r); // SparseTensorProto.indices
            }
          });
      if (!values.isEmpty()) {
        tensor(values, where + " values");
      }
      if (!indices.isEmpty()) {
        tensor(indices, where + " indices");
      }
    }

    private void tensor(List<ProtoScanner.Range> segments, String where) throws IOException {
      List<Long> dims = new ArrayList<>();
      long[] dataType = {0};
      long[] dataLocation = {0};
      String[] name = {""};
      List<String[]> entries = new ArrayList<>();
      in.fields(
          segments,
          (n, wire, v, r) -> {
            switch (n) {
              case 1 -> { // TensorProto.dims: packed or not
                if (wire == ProtoScanner.VARINT) {
                  dims.add(v);
                } else if (wire == ProtoScanner.LEN) {
                  dims.addAll(in.packedVarints(r));
                }
              }
              case 2 -> { // TensorProto.data_type
                if (wire == ProtoScanner.VARINT) {
                  dataType[0] = v;
                }
              }
              case 8 -> { // TensorProto.name
                if (wire == ProtoScanner.LEN) {
                  name[0] = in.string(r, MAX_STRING);
                }
              }
              case 13 -> { // TensorProto.external_data
                if (wire == ProtoScanner.LEN) {
                  entries.add(entry(r));
                }
              }
              case 14 -> { // TensorProto.data_location
                if (wire == ProtoScanner.VARINT) {
                  dataLocation[0] = v;
                }
              }
              default -> {}
            }
          });
      if (dataLocation[0] != 1 && entries.isEmpty()) {
        return; // data inside the model
      }
      String tensor = where + " '" + name[0] + "'";
      String location = null;
      String offset = null;
      String length = null;
      for (String[] e : entries) {
        switch (e[0]) {
          case "location" -> {
            // ONNX Runtime keeps the last value of a key; every location given must still be safe.
            checkLocation(tensor, e[1]);
            location = e[1];
          }
          case "offset" -> offset = e[1];
          case "length" -> length = e[1];
          default -> {}
        }
      }
      if (location == null) {
        throw unsafe(tensor, "(none)", "it is stored externally but names no location");
      }
      Path file = checkLocation(tensor, location);
      long fileSize = Files.size(file);
      long off = offset == null ? 0 : number(tensor, location, "offset", offset);
      OptionalLong len =
          length == null
              ? OptionalLong.empty()
              : OptionalLong.of(number(tensor, location, "length", length));
      long needed = bytesNeeded(dataType[0], dims);
      if (off > fileSize) {
        throw unsafe(
            tensor,
            location,
            "offset " + off + " is past the end of the file (" + fileSize + " bytes)");
      }
      if (len.isPresent() && len.getAsLong() > fileSize - off) {
        throw unsafe(
            tensor,
            location,
            "offset "
                + off
                + " + length "
                + len.getAsLong()
                + " is past the end of the file ("
                + fileSize
                + " bytes)");
      }
      if (len.isPresent() && needed >= 0 && len.getAsLong() < needed) {
        throw unsafe(
            tensor,
            location,
            "length "
                + len.getAsLong()
                + " is shorter than the "
                + needed
                + " bytes its shape "
                + dims
                + " needs");
      }
      if (len.isEmpty() && needed >= 0 && needed > fileSize - off) {
        throw unsafe(
            tensor,
            location,
            "offset "
                + off
                + " + the "
                + needed
                + " bytes its shape "
                + dims
                + " needs is past the end of the file ("
                + fileSize
                + " bytes)");
      }
      String rel = relative(file);
      found.add(new Reference(tensor, location, rel, off, len));
    }

    private String[] entry(ProtoScanner.Range r) throws IOException {
      String[] kv = {"", ""};
      in.fields(
          r,
          (n, wire, v, p) -> {
            if (wire == ProtoScanner.LEN && (n == 1 || n == 2)) {
              if (p.end() - p.start() > MAX_STRING) {
                throw unsafe(
                    "a tensor",
                    "(" + (p.end() - p.start()) + " bytes)",
                    "an external-data key or value is longer than " + MAX_STRING + " bytes");
              }
              kv[n - 1] = in.string(p, MAX_STRING); // StringStringEntryProto.key / value
            }
          });
      return kv;
    }

    /** Applies the path rules; returns the file, not followed through any link. */
    private Path checkLocation(String tensor, String location) throws IOException {
      if (location.isEmpty()) {
        throw unsafe(tensor, location, "the location is empty");
      }
      if (location.equals(ORT_MEMORY_ADDRESS_TAG)) {
        throw unsafe(
            tensor,
            location,
            "it is ONNX Runtime's in-memory address marker, which reads process memory");
      }
      if (location.indexOf('\0') >= 0) {
        throw unsafe(tensor, location, "the location contains a NUL character");
      }
      if (location.startsWith("/")
          || location.startsWith("\\")
          || location.matches("^[A-Za-z]:.*")) {
        throw unsafe(
            tensor,
            location,
            "the location is an absolute path; expected a path relative to the model file");
      }
      if (location.indexOf('\\') >= 0) {
        throw unsafe(
            tensor, location, "the location contains a backslash; expected '/' separators");
      }
      String[] parts = location.split("/", -1);
      for (String part : parts) {
        if (part.equals("..")) {
          throw unsafe(
              tensor,
              location,
              "the location has a '..' segment, which can leave the model directory");
        }
      }
      Path cur = base;
      for (int i = 0; i < parts.length; i++) {
        String part = parts[i];
        if (part.isEmpty() || part.equals(".")) {
          continue;
        }
        cur = cur.resolve(part);
        if (Files.isSymbolicLink(cur)) {
          throw unsafe(
              tensor,
              location,
              (i == parts.length - 1 ? "the file " : "the parent directory ")
                  + base.relativize(cur)
                  + " is a symbolic link");
        }
        if (!Files.exists(cur, LinkOption.NOFOLLOW_LINKS)) {
          throw unsafe(
              tensor,
              location,
              "the path " + base.relativize(cur) + " does not exist in the artifact");
        }
      }
      Path real = cur.toRealPath();
      if (!real.startsWith(root) || real.equals(root)) {
        throw unsafe(
            tensor,
            location,
            "it resolves to " + real + ", outside the artifact directory " + root);
      }
      if (!Files.isRegularFile(cur, LinkOption.NOFOLLOW_LINKS)) {
        throw unsafe(tensor, location, "it is not a regular file");
      }
      Object links = linkCount(cur);
      if (links instanceof Integer && (Integer) links > 1) {
        throw unsafe(
            tensor,
            location,
            "the file has "
                + links
                + " hard links, so it can be changed through a path "
                + "outside the artifact directory");
      }
      if (!inManifest.test(relative(real))) {
        throw unsafe(
            tensor, location, "the file " + relative(real) + " is not in the version's manifest");
      }
      return cur;
    }

    private String relative(Path file) throws IOException {
      return root.relativize(file.toRealPath()).toString().replace(java.io.File.separatorChar, '/');
    }

    private void checkDepth(int depth) {
      if (depth > MAX_DEPTH) {
        throw new ModelLoadException(
            "model file " + modelFile + " nests subgraphs more than " + MAX_DEPTH + " deep");
      }
    }

    private long number(String tensor, String location, String key, String value) {
      if (!DECIMAL.matcher(value).matches()) {
        throw unsafe(
            tensor, location, key + " '" + value + "' is not a non-negative decimal integer");
      }
      try {
        return Long.parseLong(value);
      } catch (NumberFormatException e) {
        throw unsafe(tensor, location, key + " '" + value + "' is too large");
      }
    }

    private UnsafeModelException unsafe(String tensor, String location, String rule) {
      return new UnsafeModelException(
          "model file "
              + modelFile
              + " is refused: "
              + tensor
              + " has external data at '"
              + location
              + "' but "
              + rule);
    }
  }

  private static Object linkCount(Path p) {
    try {
      return Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException | IllegalArgumentException | IOException e) {
      return null; // no such attribute on this platform
    }
  }

  /** Bytes a tensor of this ONNX data type and shape takes, or -1 when unknown. */
  static long bytesNeeded(long dataType, List<Long> dims) {
    long elements = 1;
    for (long d : dims) {
      if (d < 0) {
        return -1;
      }
      try {
        elements = Math.multiplyExact(elements, d);
      } catch (ArithmeticException e) {
        return Long.MAX_VALUE;
      }
    }
    int bits;
    switch ((int) dataType) {
      case 2, 3, 9, 17, 18, 19, 20, 24 ->
          bits = 8; // uint8, int8, bool, float8 variants, float8e8m0
      case 4, 5, 10, 16 -> bits = 16; // uint16, int16, float16, bfloat16
      case 1, 6, 12 -> bits = 32; // float, int32, uint32
      case 7, 11, 13, 14 -> bits = 64; // int64, double, uint64, complex64
      case 15 -> bits = 128; // complex128
      case 21, 22, 23 -> bits = 4; // uint4, int4, float4e2m1
      default -> {
        return -1;
      }
    }
    try {
      return bits >= 8
          ? Math.multiplyExact(elements, bits / 8)
          : Math.addExact(Math.multiplyExact(elements, bits), 7) / 8;
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }
}
