package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ClosedException;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.TransferStatus;
import dev.mlops.runtime.registry.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the PostgreSQL artifact store adds to the kit's checks, on a real server. */
class PostgresArtifactStoreTest {

  @TempDir Path tmp;

  private final TestArtifact artifact =
      TestArtifact.of(
          Map.of(
              "model.onnx", TestArtifact.noise(1, 2_500),
              "data/weights.bin", TestArtifact.noise(2, 1_000),
              "empty.bin", new byte[0]));

  private Path newDir() {
    try {
      return Files.createTempDirectory(tmp, "cache-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private PostgresArtifactStore store(DataSource ds, int chunkBytes) {
    return PostgresArtifactStore.builder(ds).cache(newDir()).chunkBytes(chunkBytes).build();
  }

  private static List<String> rows(DataSource ds, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      int columns = r.getMetaData().getColumnCount();
      while (r.next()) {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= columns; i++) {
          row.append(i > 1 ? " " : "").append(r.getString(i));
        }
        out.add(row.toString());
      }
    }
    return out;
  }

  @Test
  void filesAreStoredInChunksOfTheChunkSizeAndAnEmptyFileHasNone() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("pgart"));
    try (PostgresArtifactStore store = store(ds, 1_000)) {
      store.put(artifact.digest, artifact.writeTo(tmp), artifact.files);
    }
    assertThat(rows(ds, "SELECT path, seq, length(bytes) FROM artifact_chunks ORDER BY path, seq"))
        .containsExactly(
            "data/weights.bin 0 1000",
            "model.onnx 0 1000",
            "model.onnx 1 1000",
            "model.onnx 2 500");
    assertThat(rows(ds, "SELECT path, size, sha256 FROM artifact_files ORDER BY path"))
        .containsExactly(
            "data/weights.bin 1000 " + artifact.file("data/weights.bin").sha256(),
            "empty.bin 0 " + artifact.file("empty.bin").sha256(),
            "model.onnx 2500 " + artifact.file("model.onnx").sha256());
  }

  @Test
  void aChunkChangedInTheDatabaseGivesIntegrityExceptionOnAFreshCacheAndCachesNothing()
      throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("pgart"));
    try (PostgresArtifactStore writer = store(ds, 1_000)) {
      writer.put(artifact.digest, artifact.writeTo(tmp), artifact.files);
    }
    byte[] changed = artifact.content.get("model.onnx").clone();
    changed[1_234] ^= 0x01;
    try (Connection c = ds.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "UPDATE artifact_chunks SET bytes = ? WHERE path = 'model.onnx' AND seq = 1")) {
      p.setBytes(1, java.util.Arrays.copyOfRange(changed, 1_000, 2_000));
      assertThat(p.executeUpdate()).isEqualTo(1);
    }

    Path cacheDir = newDir();
    try (PostgresArtifactStore reader = PostgresArtifactStore.builder(ds).cache(cacheDir).build()) {
      assertThatThrownBy(() -> reader.materialize(artifact.digest, artifact.files))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(artifact.digest)
          .hasMessageContaining("model.onnx")
          .hasMessageContaining("expected sha256 " + artifact.file("model.onnx").sha256())
          .hasMessageContaining("sha256 " + Storage.sha256Hex(changed) + " (2500 bytes)");
      assertThat(cacheDir.resolve(artifact.digest).resolve("model.onnx")).doesNotExist();
      assertThat(TestArtifact.read(cacheDir.resolve(".partial"))).isEmpty();
      assertThat(reader.transferStatus().orElseThrow().inFlight()).isEmpty();
    }
  }

  @Test
  void aPutOfAFileWhoseBytesAreNotTheListedOnesFailsAndStoresNothing() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("pgart"));
    Path source = artifact.writeTo(tmp);
    Files.write(source.resolve("model.onnx"), TestArtifact.noise(9, 2_500));
    try (PostgresArtifactStore store = store(ds, 1_000)) {
      assertThatThrownBy(() -> store.put(artifact.digest, source, artifact.files))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("file model.onnx is not the listed one")
          .hasMessageContaining("nothing was stored");
      assertThat(store.contains(artifact.digest)).isFalse();
    }
    assertThat(rows(ds, "SELECT count(*) FROM artifacts")).containsExactly("0");
    assertThat(rows(ds, "SELECT count(*) FROM artifact_files")).containsExactly("0");
    assertThat(rows(ds, "SELECT count(*) FROM artifact_chunks")).containsExactly("0");
  }

  @Test
  void transferStatusCountsDownloadsBytesAndRefetchesExactly() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("pgart"));
    try (PostgresArtifactStore writer = store(ds, 1_000)) {
      writer.put(artifact.digest, artifact.writeTo(tmp), artifact.files);
      assertThat(writer.transferStatus()).contains(new TransferStatus(0, 0, 0, List.of()));
    }
    try (PostgresArtifactStore reader = PostgresArtifactStore.builder(ds).cache(newDir()).build()) {
      Path dir = reader.materialize(artifact.digest, artifact.files);
      assertThat(artifact.isExactlyIn(dir)).isTrue();
      assertThat(reader.transferStatus()).contains(new TransferStatus(3, 3_500, 0, List.of()));
      reader.materialize(artifact.digest, artifact.files);
      assertThat(reader.transferStatus()).contains(new TransferStatus(3, 3_500, 0, List.of()));

      Files.delete(dir.resolve("model.onnx"));
      assertThat(artifact.isExactlyIn(reader.materialize(artifact.digest, artifact.files)))
          .isTrue();
      assertThat(reader.transferStatus()).contains(new TransferStatus(4, 6_000, 1, List.of()));

      reader.delete(artifact.digest);
      assertThat(dir).as("the cached copy after the delete").doesNotExist();
      assertThat(rows(ds, "SELECT count(*) FROM artifact_chunks")).containsExactly("0");
    }
  }

  @Test
  void aFileOfSeveralMebibytesRoundTripsWithTheDefaultChunkSize() throws Exception {
    DataSource ds = TestDatabases.dataSource(TestDatabases.newDatabase("pgart"));
    TestArtifact big = TestArtifact.of(Map.of("model.onnx", TestArtifact.noise(3, (3 << 20) + 17)));
    try (PostgresArtifactStore store = PostgresArtifactStore.builder(ds).cache(newDir()).build()) {
      store.put(big.digest, big.writeTo(tmp), big.files);
    }
    assertThat(rows(ds, "SELECT seq, length(bytes) FROM artifact_chunks ORDER BY seq"))
        .containsExactly("0 1048576", "1 1048576", "2 1048576", "3 17");
    try (PostgresArtifactStore reader = PostgresArtifactStore.builder(ds).cache(newDir()).build()) {
      assertThat(big.isExactlyIn(reader.materialize(big.digest, big.files))).isTrue();
    }
  }

  @Test
  void theBuilderRefusesAnOptionSetTwiceAChunkSizeOutOfRangeAndAMissingCache() {
    DataSource ds = TestDatabases.dataSource("jdbc:postgresql://127.0.0.1:1/none");
    PostgresArtifactStore.Builder b = PostgresArtifactStore.builder(ds).chunkBytes(4096);
    assertThatThrownBy(() -> b.chunkBytes(8192))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chunkBytes is already set to 4096");
    assertThatThrownBy(() -> b.chunkBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("chunkBytes must be between 1 and");
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cache is not set");
    assertThatThrownBy(() -> PostgresArtifactStore.builder(ds).cache(tmp).build())
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("cannot create or migrate the registry schema in PostgreSQL");
  }

  @Test
  void aClosedStoreRefusesCallsAndClosingTwiceIsHarmless() {
    PostgresArtifactStore store =
        store(TestDatabases.dataSource(TestDatabases.newDatabase("pgart")), 1_000);
    store.close();
    store.close();
    assertThatThrownBy(() -> store.contains(artifact.digest)).isInstanceOf(ClosedException.class);
  }
}
