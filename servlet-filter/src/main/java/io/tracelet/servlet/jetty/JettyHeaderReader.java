package io.tracelet.servlet.jetty;

import io.tracelet.servlet.internal.container.HeaderReader;
import io.tracelet.servlet.internal.server.CapturedHeaders;
import io.tracelet.servlet.internal.server.HeaderIndex;
import jakarta.servlet.http.HttpServletRequest;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the headers of a Jetty 12 (ee10 or ee11) request over in one pass, by index over Jetty's
 * own fields: the servlet API would scan them once per name asked for. Only Jetty's own request
 * object is read this way: a wrapper put in front by another filter may answer {@code getHeader}
 * differently, so a wrapped request is looked up through the servlet API as before.
 */
public final class JettyHeaderReader implements HeaderReader {
  private static final Logger logger = LoggerFactory.getLogger(JettyHeaderReader.class);

  /** Created by name ({@code ContainerAdapters}); fails when Jetty's classes are missing. */
  public JettyHeaderReader() {
    if (!JettyWatches.anyEnvironment()) {
      throw new IllegalStateException("neither Jetty ee10 nor ee11 is visible");
    }
  }

  @Override
  public void read(HttpServletRequest request, HeaderIndex index, CapturedHeaders into) {
    try {
      HttpFields fields = JettyWatches.fields(request);
      if (fields == null) {
        return;
      }
      into.capturing(index);
      // An iterator rather than getField(i): that is a walk from the start on some HttpFields.
      for (HttpField field : fields) {
        into.capture(field.getName(), field.getValue());
      }
      into.captured();
    } catch (RuntimeException | LinkageError e) {
      // A Jetty other than the one built against: the headers are looked up one by one instead.
      logger.debug("Could not read the request's headers in one pass", e);
    }
  }
}
