package dev.mlops.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

class ReportTest {

  @TempDir Path dir;

  private static final Report.Environment ENV =
      new Report.Environment(
          "short", "benchmarks/run-all.sh", "ONNX Runtime 1.29.0", Instant.parse("2026-11-27T13:00:00Z"), 2,
          "AMD EPYC", "23.5 GiB", "OpenJDK 17", "1.00, 1.00, 1.00", "2.00, 1.00, 1.00", Duration.ofSeconds(400));

  @Test
  void judgesEachGoalFromTheFiguresAndDrawsAWellFormedChart() throws Exception {
    Report report = report();

    String md = report.markdown("throughput.svg");
    String svg = report.chart();

    assertThat(md)
        .contains("| mlops faster than DJL, tiny (p50 ratio < 1.00) | 0.800 | 0.900 | met (JMH), met (interleaved) |")
        .contains("| mlops ÷ raw reused ≤ 1.03, wide (p50) | 1.050 | 1.000 | **missed** (JMH), met (interleaved) |")
        .contains("| `batched` ≥ 3× unbatched calls/s at 64 callers (aim 5×), wide | 4.00× | 3.00× per CPU second | met;")
        .contains("| `batched`, one caller: ≤ unbatched + 1000 µs queue delay, wide | p50 320.0 ≤ 1,300 | p99 1,500 ≤ 1,400"
            + " | p50 met, p99 **missed** |")
        .contains("| `greedy` ≥ 3× unbatched calls/s at 64 callers (aim 5×), wide | 6.00× | 4.00× per CPU second | met, aim met;")
        .contains("| `greedy`, one caller: ≤ unbatched + 0 µs queue delay, wide | p50 310.0 ≤ 300.0 | p99 390.0 ≤ 400.0"
            + " | p50 **missed**, p99 met |")
        .contains("![throughput and p99 against callers](throughput.svg)");
    Document doc =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    // One line per panel for each predictor of the one model, a point per concurrency.
    assertThat(doc.getElementsByTagName("polyline").getLength()).isEqualTo(6);
    assertThat(doc.getElementsByTagName("circle").getLength()).isEqualTo(12);
  }

  private Report report() throws Exception {
    List<Report.Figure> predict = new ArrayList<>();
    predict.add(figure("tiny", "mlopsPredict", 4.0));
    predict.add(figure("tiny", "djlPredict", 5.0));
    predict.add(figure("wide", "mlopsPredict", 105));
    predict.add(figure("wide", "rawOrtReusedBuffer", 100));
    Path interleaved = dir.resolve("interleaved.tsv");
    Files.write(
        interleaved,
        List.of(
            InterleavedPredict.HEADER,
            "tiny\tmlopsPredict\t10\t4.5\t4.5\t5\t6\t7",
            "tiny\tdjlPredict\t10\t5\t5\t5\t6\t7",
            "wide\tmlopsPredict\t10\t100\t100\t100\t100\t100",
            "wide\trawOrtReusedBuffer\t10\t100\t100\t100\t100\t100"));
    Path batching = dir.resolve("batching.tsv");
    Files.write(
        batching,
        List.of(
            "# batched: BatchingOptions[maxBatchSize=64, maxQueueDelay=PT0.001S, preferred=[1, 2], maxQueueSize=4096]",
            "# greedy: BatchingOptions[maxBatchSize=64, maxQueueDelay=PT0S, preferred=[], maxQueueSize=4096]",
            BatchingBenchmark.HEADER,
            "wide\tunbatched\t1\t100\t1\t100\t300\t300\t300\t400\t500\t600\t1\t0\t1\t100\t0",
            "wide\tbatched\t1\t100\t1\t90\t320\t320\t320\t1500\t1600\t1700\t1\t0\t1\t90\t3",
            "wide\tgreedy\t1\t100\t1\t95\t310\t310\t310\t390\t1600\t1700\t1\t0\t1\t95\t3",
            "wide\tunbatched\t64\t100\t1\t1000\t300\t300\t300\t90000\t1\t1\t1\t0\t2\t500\t0",
            "wide\tbatched\t64\t100\t1\t4000\t3000\t3000\t3000\t5000\t1\t1\t40\t0\t1.5\t1500\t1.6",
            "wide\tgreedy\t64\t100\t1\t6000\t3000\t3000\t3000\t5000\t1\t1\t40\t0\t2\t2000\t1.6"));
    return new Report(
        ENV, predict, List.of(), Report.readTsv(interleaved), Report.readTsv(batching), List.of(), List.of());
  }

  private static Report.Figure figure(String model, String method, double p50) {
    return new Report.Figure(model, method, p50, 0.1, p50, p50 * 2, p50 * 3, 1000, Double.NaN);
  }
}
