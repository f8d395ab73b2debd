package io.tracelet.servlet.jetty;

import io.tracelet.servlet.internal.container.ContainerHeaders;
import io.tracelet.servlet.internal.container.RequestFacts;
import io.tracelet.servlet.internal.server.CapturedHeaders;
import io.tracelet.servlet.internal.server.HeaderIndex;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Objects;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty 12 (ee10 or ee11) header access without the servlet API's per-call costs there: the request
 * headers in one pass over Jetty's own fields (the servlet API scans them once per name asked for),
 * the client address and server name and port kept with the connection (the servlet API formats
 * them anew on every call), and response headers added straight to the response's fields (the
 * servlet response's fields are a wrapper whose every lookup and {@code setHeader} makes an
 * iterator object). Only Jetty's own request and response objects are used this way: a wrapper put
 * in front by another filter may answer or record headers differently, so with one the servlet API
 * is used as before.
 */
public final class JettyHeaders implements ContainerHeaders {
  private static final Logger logger = LoggerFactory.getLogger(JettyHeaders.class);
  // The connection attribute holding its ConnectionFacts.
  private static final String FACTS = JettyHeaders.class.getName() + ".facts";
  // Jetty's plain array of fields (a package-private class), under the response's wrapper.
  private static final Class<?> PLAIN_FIELDS = HttpFields.build().getClass();

  /** Created by name ({@code ContainerAdapters}); fails when Jetty's classes are missing. */
  public JettyHeaders() {
    if (!JettyWatches.anyEnvironment()) {
      throw new IllegalStateException("neither Jetty ee10 nor ee11 is visible");
    }
  }

  @Override
  public void read(HttpServletRequest request, HeaderIndex index, CapturedHeaders into) {
    try {
      HttpFields fields = requestFields(request);
      if (fields == null) {
        return;
      }
      // An iterator rather than getField(i): that is a walk from the start on some HttpFields.
      for (HttpField field : fields) {
        into.capture(index, field.getName(), field.getValue());
      }
      into.captured(index);
    } catch (RuntimeException | LinkageError e) {
      // A Jetty other than the one built against: the headers are looked up one by one instead.
      logger.debug("Could not read the request's headers in one pass", e);
    }
  }

  @Override
  public RequestFacts facts(HttpServletRequest request) {
    try {
      Request core = JettyWatches.EE10 ? Ee10Requests.ownCoreRequest(request) : null;
      if (core == null && JettyWatches.EE11) {
        core = Ee11Requests.ownCoreRequest(request);
      }
      if (core == null) {
        return null;
      }
      ConnectionMetaData connection = core.getConnectionMetaData();
      // Kept with the connection: HTTP/1.1's and HTTP/2's are their own meta data and attribute
      // store (its map is made once per connection). Meta data of a request's own (a
      // forwarded-headers customizer gives each request its client's address) is asked each time.
      if (connection.getConnection() != connection) {
        return null;
      }
      HttpURI uri = core.getHttpURI();
      String host = uri.getHost();
      int port = uri.getPort();
      String scheme = uri.getScheme();
      if (connection.getAttribute(FACTS) instanceof ConnectionFacts kept
          && kept.answers(host, port, scheme)) {
        return kept.facts;
      }
      RequestFacts facts =
          new RequestFacts(
              request.getRemoteAddr(), request.getServerName(), request.getServerPort());
      connection.setAttribute(FACTS, new ConnectionFacts(host, port, scheme, facts));
      return facts;
    } catch (RuntimeException | LinkageError e) {
      logger.debug("Could not keep the request's address and authority with its connection", e);
      return null;
    }
  }

  @Override
  public boolean set(HttpServletResponse response, String name, String value) {
    try {
      HttpFields.Mutable fields = responseFields(response);
      if (fields == null) {
        return false;
      }
      // No HttpHeader: the names written here (request ID, traceresponse, X-Trace-ID,
      // Server-Timing) need none of the special handling Jetty gives its known headers, and looking
      // the name up in its trie cost more than the rest of the put. The response is not checked for
      // being committed (that takes the servlet channel's lock): the headers are set before the
      // application runs, and on a response a filter in front already committed the field is never
      // sent, as setHeader would ignore it.
      HttpField field = new HttpField(null, name, value);
      if (absent(fields, name)) {
        // What put does for a name not there yet, without the list iterator it walks with.
        fields.add(field);
      } else {
        fields.put(field);
      }
      return true;
    } catch (RuntimeException | LinkageError e) {
      logger.debug("Could not set a response header directly", e);
      return false;
    }
  }

  /**
   * Whether the response's fields surely have no field {@code name}: looked up by index when they
   * are Jetty's wrapper around its plain array of fields (the response's, whose lookups by name
   * make an iterator object); false, so that the caller puts, for any other kind.
   */
  private static boolean absent(HttpFields.Mutable fields, String name) {
    if (!(fields instanceof HttpFields.Mutable.Wrapper wrapper)
        || wrapper.getWrapped().getClass() != PLAIN_FIELDS) {
      return false;
    }
    HttpFields.Mutable plain = wrapper.getWrapped();
    for (int i = 0, n = plain.size(); i < n; i++) {
      if (plain.getField(i).is(name)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The facts of the connection's latest request and what they were derived from besides the
   * connection: the request's authority and scheme ({@code getServerName} and {@code getServerPort}
   * fall back to the connection's configured authority or local address and the scheme's port when
   * the request names none; the servlet layer's own formatting of the name is taken to be the same
   * for every request of a connection). Immutable: HTTP/2 streams of one connection run at the same
   * time, and at worst replace each other's.
   */
  private static final class ConnectionFacts {
    private final String host;
    private final int port;
    private final String scheme;
    final RequestFacts facts;

    ConnectionFacts(String host, int port, String scheme, RequestFacts facts) {
      this.host = host;
      this.port = port;
      this.scheme = scheme;
      this.facts = facts;
    }

    boolean answers(String host, int port, String scheme) {
      return this.port == port
          && Objects.equals(this.host, host)
          && Objects.equals(this.scheme, scheme);
    }
  }

  /**
   * The header fields of Jetty's own ee10 or ee11 servlet request, those its {@code getHeader}
   * reads; null for anything else, a wrapper included.
   */
  private static HttpFields requestFields(HttpServletRequest request) {
    HttpFields fields = JettyWatches.EE10 ? Ee10Requests.fields(request) : null;
    if (fields == null && JettyWatches.EE11) {
      fields = Ee11Requests.fields(request);
    }
    return fields;
  }

  /**
   * The header fields of the response behind Jetty's own ee10 or ee11 servlet response (below the
   * servlet layer's wrapper of them); null for anything else, a wrapper included.
   */
  private static HttpFields.Mutable responseFields(HttpServletResponse response) {
    Response core = JettyWatches.EE10 ? Ee10Requests.coreResponse(response) : null;
    if (core == null && JettyWatches.EE11) {
      core = Ee11Requests.coreResponse(response);
    }
    return core == null ? null : Response.getOriginalResponse(core).getHeaders();
  }
}
