package dev.mlops.registry.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy to a local port that can black-hole the connections it carries: they stay open, and
 * nothing more is forwarded either way, as when a link dies without a FIN or an RST. Connections
 * made after {@link #blackHole()} are forwarded again.
 */
final class TcpProxy implements AutoCloseable {

  private final ServerSocket server;
  private final int target;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  /** A client connection and its upstream, and whether it still forwards. */
  private static final class Link {
    final Socket client;
    final Socket upstream;
    volatile boolean forwarding = true;

    Link(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }
  }

  TcpProxy(int targetPort) throws IOException {
    this.target = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "tcp-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Stops forwarding on every connection open now, without closing any. */
  void blackHole() {
    for (Link l : links) {
      l.forwarding = false;
    }
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target));
        Link link = new Link(client, upstream);
        links.add(link);
        pipe(link, client, upstream, "up");
        pipe(link, upstream, client, "down");
      } catch (IOException e) {
        if (!closed) {
          continue;
        }
        return;
      }
    }
  }

  private static void pipe(Link link, Socket from, Socket to, String name) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                  if (link.forwarding) {
                    out.write(buf, 0, n);
                    out.flush();
                  } // black-holed: read and drop, never close
                }
              } catch (IOException e) {
                // one side closed
              }
              if (link.forwarding) {
                closeQuietly(link.client);
                closeQuietly(link.upstream);
              }
            },
            "tcp-proxy-" + name);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Link l : links) {
      closeQuietly(l.client);
      closeQuietly(l.upstream);
    }
  }
}
