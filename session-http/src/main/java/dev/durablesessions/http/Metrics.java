package dev.durablesessions.http;

import dev.durablesessions.session.metrics.SessionMetrics;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/** {@code GET /metrics}: the Prometheus text format of the server's metrics (unauthenticated, like health). */
public final class Metrics {
  private Metrics() {}

  private static final PrometheusTextFormatWriter WRITER = new PrometheusTextFormatWriter(false);
  /** text/plain; version=0.0.4; charset=utf-8, the Prometheus text format. */
  private static final org.apache.pekko.http.javadsl.model.ContentType CONTENT_TYPE =
      org.apache.pekko.http.javadsl.model.ContentTypes.parse(PrometheusTextFormatWriter.CONTENT_TYPE);

  public static HttpResponse scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      WRITER.write(out, SessionMetrics.registry().scrape());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return HttpResponse.create().withEntity(CONTENT_TYPE, out.toByteArray());
  }
}
