package io.tracelet.servlet.jetty;

import io.tracelet.servlet.internal.container.ContainerHeaders;
import io.tracelet.servlet.internal.server.CapturedHeaders;
import io.tracelet.servlet.internal.server.HeaderIndex;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty 12 (ee10 or ee11) header access without the servlet API's per-call costs there: the request
 * headers in one pass over Jetty's own fields (the servlet API scans them once per name asked for),
 * and response headers put straight into the response's fields (the servlet response's fields are a
 * wrapper whose every lookup and {@code setHeader} makes an iterator object). Only Jetty's own
 * request and response objects are used this way: a wrapper put in front by another filter may
 * answer or record headers differently, so with one the servlet API is used as before.
 */
public final class JettyHeaders implements ContainerHeaders {
  private static final Logger logger = LoggerFactory.getLogger(JettyHeaders.class);

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
  public boolean set(HttpServletResponse response, String name, String value) {
    try {
      HttpFields.Mutable fields = responseFields(response);
      if (fields == null) {
        return false;
      }
      // Jetty's put replaces a field of the same name in place, walking its array by index. No
      // HttpHeader: the names written here (request ID, traceresponse, X-Trace-ID, Server-Timing)
      // need none of the special handling Jetty gives its known headers, and looking the name up in
      // its trie cost more than the rest of the put. The response is not checked for being
      // committed (that takes the servlet channel's lock): the headers are set before the
      // application runs, and on a response a filter in front already committed the field is never
      // sent, as setHeader would ignore it.
      fields.put(new HttpField(null, name, value));
      return true;
    } catch (RuntimeException | LinkageError e) {
      logger.debug("Could not set a response header directly", e);
      return false;
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
