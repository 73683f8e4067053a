package io.meshproxy.core.testing;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import java.io.IOException;
import java.io.InputStream;

/**
 * A meshproxy in its own JVM, for tests that must measure or limit the proxy process alone (heap, direct
 * memory, leaks). Arguments: the upstream port on 127.0.0.1 and the cluster protocol ({@code HTTP1} or
 * {@code HTTP2}). Starts {@link Configs#simple(UpstreamProtocol, int...)}, prints
 * {@code ports <listener> <admin>} on stdout, and runs until stdin closes. Before exiting it forces garbage
 * collection and allocates, so that Netty's leak detector reports (on stderr, as {@code LEAK: ...}) any buffer
 * that was collected unreleased; then it prints {@code stopped}.
 */
public final class ProxyMain {
    private ProxyMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: ProxyMain <upstream-port> <HTTP1|HTTP2>");
            System.exit(2);
        }
        int upstreamPort = Integer.parseInt(args[0]);
        UpstreamProtocol protocol = UpstreamProtocol.valueOf(args[1]);
        MeshProxy proxy = MeshProxy.builder().config(Configs.simple(protocol, upstreamPort)).build().start();
        System.out.println("ports " + proxy.listenerPort("in") + " " + proxy.adminPort());
        System.out.flush();
        awaitStdinClosed(System.in);
        proxy.close();
        LeakReports.provoke();
        System.out.println("stopped");
        System.out.flush();
        System.exit(0);
    }

    private static void awaitStdinClosed(InputStream in) {
        byte[] buf = new byte[256];
        try {
            while (in.read(buf) >= 0) {
                // keep waiting: only the end of stdin stops the proxy
            }
        } catch (IOException e) {
            // the parent went away: stop as well
        }
    }
}
