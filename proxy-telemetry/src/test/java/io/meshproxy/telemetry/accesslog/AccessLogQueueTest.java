package io.meshproxy.telemetry.accesslog;

import static io.meshproxy.telemetry.accesslog.AccessLogTesting.parse;
import static io.meshproxy.telemetry.accesslog.AccessLogTesting.proxyConfig;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.TelemetryConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The bounded queue between the event loops and the writer thread: with the writer stuck on its output, the
 * queue fills, further lines are dropped and counted, and no request waits for the log.
 */
class AccessLogQueueTest {

    /** An output whose writes block until the test releases them (a disk or pipe that stopped taking bytes). */
    static final class StuckOutput extends OutputStream {
        final CountDownLatch writeEntered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            writeEntered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("the test never released the output");
                }
            } catch (InterruptedException e) {
                throw new InterruptedIOException();
            }
            bytes.write(b, off, len);
        }

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void aFullQueueDropsAndCountsWithoutBlockingTheEventLoop() throws Exception {
        int queueSize = 4;
        int more = 20;
        StuckOutput output = new StuckOutput();
        AccessLogger logger = new AccessLogger(new TelemetryConfig.AccessLog("stuck", 100, true, queueSize),
                output, "stuck", () -> 0.5);
        try (TestUpstream good = TestUpstream.start("good");
             MeshProxy proxy = MeshProxy.builder().config(proxyConfig(good.port(), 0))
                     .eventListener(new AccessLogTesting.SinkListener(logger)).eventLoopThreads(1).build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            assertEquals(200, c.send("GET /echo/first HTTP/1.1\r\nHost: h\r\n\r\n").read().status());
            // the writer took the first line, found the queue empty, flushed, and is now stuck in write
            assertTrue(output.writeEntered.await(10, TimeUnit.SECONDS), "the writer never wrote");
            for (int i = 0; i < more; i++) {
                // every request is answered at once although its log line has nowhere to go
                assertEquals(200, c.send("GET /echo/" + i + " HTTP/1.1\r\nHost: h\r\n\r\n").read().status(), "request " + i);
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> logger.droppedLines() + logger.queuedLines() == more);
            assertEquals(queueSize, logger.queuedLines(), "the queue holds what fits");
            assertEquals(more - queueSize, logger.droppedLines(), "the rest is dropped and counted");
            assertEquals(1, logger.writtenLines(), "the writer is still on the first line");

            output.release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> logger.writtenLines() == 1 + queueSize
                    && parse(output.text()).size() == 1 + queueSize);
            List<String> paths = new ArrayList<>();
            for (JsonNode l : parse(output.text())) {
                paths.add(l.get("path").asText());
            }
            assertEquals(List.of("/echo/first", "/echo/0", "/echo/1", "/echo/2", "/echo/3"), paths,
                    "the lines that fitted, in order");
            assertEquals(0, logger.queuedLines());
            assertEquals(0, logger.writeErrors());
        } finally {
            output.release.countDown();
            logger.close();
        }
        assertEquals(more - queueSize, logger.droppedLines(), "closing drops nothing more");
    }
}
