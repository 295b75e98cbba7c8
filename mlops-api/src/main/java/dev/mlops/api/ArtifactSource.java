package dev.mlops.api;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the files of a new version come from. The registry copies them into its own storage; the
 * source is not referenced after {@link ModelRegistry#register} returns.
 */
public sealed interface ArtifactSource {

  /** A single model file. */
  static ArtifactSource file(Path modelFile) {
    return new FileSource(modelFile);
  }

  /**
   * A directory holding the model file and the files it references (ONNX external data). Every
   * regular file under the directory is copied and digested.
   *
   * @param directory the directory
   * @param modelFile path of the model file relative to the directory, e.g. {@code model.onnx}
   */
  static ArtifactSource directory(Path directory, String modelFile) {
    return new DirectorySource(directory, modelFile);
  }

  /**
   * A model read from a stream, stored under {@code fileName}. The stream is read to its end but
   * not closed.
   *
   * @throws IllegalArgumentException if {@code fileName} is not a plain file name, or is not
   *     portable (see {@link ArtifactFile#unportableReason})
   */
  static ArtifactSource stream(InputStream in, String fileName) {
    return new StreamSource(in, fileName);
  }

  /** A single model file. @param file the file */
  record FileSource(Path file) implements ArtifactSource {
    /** Validates. */
    public FileSource {
      Objects.requireNonNull(file, "file");
    }
  }

  /**
   * A directory with a model file and its external data. @param directory root @param modelFile
   * relative model path
   */
  record DirectorySource(Path directory, String modelFile) implements ArtifactSource {
    /** Validates. */
    public DirectorySource {
      Objects.requireNonNull(directory, "directory");
      Objects.requireNonNull(modelFile, "modelFile");
    }
  }

  /** A model in a stream. @param in the stream @param fileName the stored name */
  record StreamSource(InputStream in, String fileName) implements ArtifactSource {
    /** Validates. */
    public StreamSource {
      Objects.requireNonNull(in, "in");
      Objects.requireNonNull(fileName, "fileName");
      if (fileName.isEmpty()
          || fileName.contains("/")
          || fileName.contains("\\")
          || fileName.startsWith(".")) {
        throw new IllegalArgumentException("fileName must be a plain file name: " + fileName);
      }
      ArtifactFile.unportableReason(fileName)
          .ifPresent(
              why -> {
                throw new IllegalArgumentException("fileName is refused: " + why);
              });
    }
  }
}
