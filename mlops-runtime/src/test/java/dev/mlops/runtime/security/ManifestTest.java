package dev.mlops.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.InvalidModelRefException;
import dev.mlops.api.SignatureException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The manifest's encoding, format 1: its exact bytes, its injectivity and what it refuses. */
class ManifestTest {

  private static final String SHA_A = "a".repeat(64);
  private static final String SHA_B = "b".repeat(64);

  /** The exact bytes of one small manifest: a change of the format must show here. */
  @Test
  void goldenBytesOfASmallManifest() {
    Manifest m =
        Manifest.of(
            "fraud",
            "model.onnx",
            List.of(
                new ArtifactFile("weights/w.bin", 12, SHA_B),
                new ArtifactFile("model.onnx", 100, SHA_A)));
    String expected =
        "mlops-manifest 1\n"
            + "model 5:fraud\n"
            + "entry 10:model.onnx\n"
            + "files 2\n"
            + "10:model.onnx "
            + SHA_A
            + "\n"
            + "13:weights/w.bin "
            + SHA_B
            + "\n";
    assertThat(m.bytes()).isEqualTo(expected.getBytes(StandardCharsets.US_ASCII));
    assertThat(m.text()).isEqualTo(expected);
    assertThat(m.sha256Hex())
        .isEqualTo(
            HexFormat.of()
                .formatHex(Manifest.sha256().digest(expected.getBytes(StandardCharsets.US_ASCII))))
        .isEqualTo("97ec9a1e7d944f100a65a164d3caa47329608792251a416406719ba180ab18b2");
    assertThat(m.paths()).containsExactly("model.onnx", "weights/w.bin");
    assertThat(m.model()).isEqualTo("fraud");
    assertThat(m.entryPoint()).isEqualTo("model.onnx");
    assertThat(Manifest.HEADER).isEqualTo("mlops-manifest 1");
    // bytes() is a copy
    m.bytes()[0] = 'X';
    assertThat(m.bytes()[0]).isEqualTo((byte) 'm');
  }

  @Test
  void lengthsCountUtf8BytesAndPathsSortByTheirUtf8Bytes() {
    // U+E000 is EE 80 80 and U+1F600 is F0 9F 98 80: byte order puts U+E000 first, while Java's
    // UTF-16 order (a surrogate D83D) would put U+1F600 first.
    String emoji = "\uD83D\uDE00.bin";
    String privateUse = "\uE000.bin";
    Manifest m =
        Manifest.of(
            "fraud",
            "é.onnx",
            List.of(
                new ArtifactFile(emoji, 1, SHA_A),
                new ArtifactFile(privateUse, 1, SHA_A),
                new ArtifactFile("é.onnx", 1, SHA_B)));
    assertThat(m.paths()).containsExactly("é.onnx", privateUse, emoji);
    assertThat(m.text())
        .isEqualTo(
            "mlops-manifest 1\nmodel 5:fraud\nentry 7:é.onnx\nfiles 3\n"
                + "7:é.onnx "
                + SHA_B
                + "\n7:"
                + privateUse
                + " "
                + SHA_A
                + "\n8:"
                + emoji
                + " "
                + SHA_A
                + "\n");
  }

  /**
   * Finding: a file named {@code a.onnx<TAB><sha>⏎b.bin} gave the manifest text (and so the
   * signature) of the two files {@code {a.onnx, b.bin}}. Such a name is refused, and in the new
   * encoding the name would not pose as two files anyway.
   */
  @Test
  void fileNameThatPosedAsTwoManifestLinesIsRefused() {
    String posing = "a.onnx\t" + SHA_A + "\nb.bin";
    assertThatThrownBy(
            () -> Manifest.of("fraud", "a.onnx", List.of(new ArtifactFile(posing, 1, SHA_B))))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("the file name 'a.onnx\\u0009" + SHA_A + "\\u000Ab.bin'")
        .hasMessageContaining("holds the control character U+0009 at index 6");
    Manifest two =
        Manifest.of(
            "fraud",
            "a.onnx",
            List.of(new ArtifactFile("a.onnx", 1, SHA_A), new ArtifactFile("b.bin", 1, SHA_B)));
    assertThat(two.text()).contains("\n6:a.onnx " + SHA_A + "\n5:b.bin " + SHA_B + "\n");
  }

  @Test
  void everyControlCharacterAndUnpairedSurrogateIsRefused() {
    List<Character> refused = new ArrayList<>();
    for (char c = 0; c < 0x20; c++) {
      refused.add(c);
    }
    refused.add((char) 0x7f);
    for (char c : refused) {
      String name = "model" + c + ".onnx";
      assertThatThrownBy(
              () -> Manifest.of("fraud", name, List.of(new ArtifactFile(name, 1, SHA_A))))
          .as("U+%04X", (int) c)
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining(String.format("the control character U+%04X at index 5", (int) c));
    }
    for (String lone : List.of("a\uD800.onnx", "a\uDC00.onnx", "a\uDE00\uD83D.onnx")) {
      assertThatThrownBy(
              () -> Manifest.of("fraud", lone, List.of(new ArtifactFile(lone, 1, SHA_A))))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("is not valid Unicode");
    }
    // Space, DEL's neighbours and non-ASCII letters are fine.
    for (String ok : List.of("a b.onnx", "~.onnx", "\u0080.onnx", "模型.onnx")) {
      assertThat(Manifest.of("fraud", ok, List.of(new ArtifactFile(ok, 1, SHA_A))).paths())
          .containsExactly(ok);
    }
  }

  @Test
  void modelNameAndEntryPointAreBoundAndChecked() {
    List<ArtifactFile> files =
        List.of(new ArtifactFile("a.onnx", 1, SHA_A), new ArtifactFile("b.onnx", 1, SHA_B));
    Manifest fraudA = Manifest.of("fraud", "a.onnx", files);
    assertThat(Manifest.of("other", "a.onnx", files)).isNotEqualTo(fraudA);
    assertThat(Manifest.of("fraud", "b.onnx", files)).isNotEqualTo(fraudA);
    assertThat(Manifest.of("fraud", "a.onnx", List.of(files.get(1), files.get(0))))
        .isEqualTo(fraudA)
        .hasSameHashCodeAs(fraudA);

    assertThatThrownBy(() -> Manifest.of("fraud", "c.onnx", files))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining(
            "the entry point 'c.onnx' of model 'fraud' is not among its files ['a.onnx', 'b.onnx']");
    assertThatThrownBy(
            () ->
                Manifest.of(
                    "fraud",
                    "a.onnx",
                    List.of(
                        new ArtifactFile("a.onnx", 1, SHA_A),
                        new ArtifactFile("a.onnx", 2, SHA_B))))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("lists the file a.onnx twice");
    assertThatThrownBy(() -> Manifest.of("fraud", "a.onnx", List.of()))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("lists no file");
    assertThatThrownBy(() -> Manifest.of("no such/name", "a.onnx", files))
        .isInstanceOf(InvalidModelRefException.class);
  }

  /**
   * Injectivity by construction, checked: a decoder recovers the model, the entry point and the
   * files from the bytes of random manifests whose names are drawn from the encoding's own
   * separators and digits, and no two different manifests share their bytes.
   */
  @Test
  void bytesDecodeBackToTheirFieldsSoDifferentManifestsNeverShareBytes() {
    Random random = new Random(2026);
    String alphabet = "ab1:0 /.é";
    Map<String, List<Object>> seen = new HashMap<>();
    int distinct = 0;
    for (int i = 0; i < 5000; i++) {
      String model = random.nextBoolean() ? "m" : "m1";
      int n = 1 + random.nextInt(3);
      List<ArtifactFile> files = new ArrayList<>();
      java.util.Set<String> paths = new java.util.HashSet<>();
      while (files.size() < n) {
        StringBuilder p = new StringBuilder();
        int len = 1 + random.nextInt(6);
        for (int k = 0; k < len; k++) {
          p.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        String path = p.toString();
        if (isValidPath(path) && paths.add(path)) {
          files.add(new ArtifactFile(path, 1, random.nextBoolean() ? SHA_A : SHA_B));
        }
      }
      String entry = files.get(random.nextInt(files.size())).path();
      Manifest m = Manifest.of(model, entry, files);
      List<Object> fields = decode(m.bytes());
      List<Object> expected = new ArrayList<>(List.of(model, entry));
      for (ArtifactFile f : m.files()) {
        expected.add(f.path() + "=" + f.sha256());
      }
      assertThat(fields).isEqualTo(expected);
      List<Object> previous = seen.putIfAbsent(HexFormat.of().formatHex(m.bytes()), fields);
      if (previous == null) {
        distinct++;
      } else {
        assertThat(previous).as("two manifests with the same bytes").isEqualTo(fields);
      }
    }
    assertThat(distinct).isGreaterThan(4000);
  }

  @Test
  void aPathThatIsNotPortableCannotBeInAManifest() {
    for (String path : List.of("NUL.bin", "weights.", "w/COM1", "dir /w")) {
      List<ArtifactFile> files =
          List.of(new ArtifactFile("model.onnx", 1, SHA_A), new ArtifactFile(path, 1, SHA_B));
      assertThatThrownBy(() -> Manifest.of("m", "model.onnx", files))
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining("is not portable")
          .hasMessageContaining("rename the file");
    }
  }

  private static boolean isValidPath(String path) {
    try {
      new ArtifactFile(path, 1, SHA_A);
      return ArtifactFile.unportableReason(path).isEmpty();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** A strict decoder of format 1: [model, entry, path=sha...]; fails on any deviation. */
  private static List<Object> decode(byte[] b) {
    int[] pos = {0};
    expect(b, pos, "mlops-manifest 1\nmodel ");
    String model = field(b, pos);
    expect(b, pos, "\nentry ");
    String entry = field(b, pos);
    expect(b, pos, "\nfiles ");
    int count = Integer.parseInt(until(b, pos, '\n'));
    pos[0]++;
    List<Object> out = new ArrayList<>(List.of(model, entry));
    for (int i = 0; i < count; i++) {
      String path = field(b, pos);
      expect(b, pos, " ");
      String sha = new String(b, pos[0], 64, StandardCharsets.US_ASCII);
      pos[0] += 64;
      expect(b, pos, "\n");
      out.add(path + "=" + sha);
    }
    assertThat(pos[0]).as("nothing after the last file").isEqualTo(b.length);
    return out;
  }

  private static void expect(byte[] b, int[] pos, String s) {
    byte[] e = s.getBytes(StandardCharsets.UTF_8);
    for (byte x : e) {
      assertThat(b[pos[0]++]).isEqualTo(x);
    }
  }

  private static String field(byte[] b, int[] pos) {
    String digits = until(b, pos, ':');
    assertThat(digits).matches("0|[1-9][0-9]*");
    pos[0]++;
    int len = Integer.parseInt(digits);
    String s = new String(b, pos[0], len, StandardCharsets.UTF_8);
    pos[0] += len;
    return s;
  }

  private static String until(byte[] b, int[] pos, char stop) {
    int start = pos[0];
    while (b[pos[0]] != stop) {
      pos[0]++;
    }
    return new String(b, start, pos[0] - start, StandardCharsets.US_ASCII);
  }
}
