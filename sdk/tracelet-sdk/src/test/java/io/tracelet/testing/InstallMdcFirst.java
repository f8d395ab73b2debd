package io.tracelet.testing;

import io.tracelet.logging.TraceletMdc;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Installs the MDC context storage when the test run starts, before any test uses a Context. The
 * service loader cannot do it here: opentelemetry-sdk-testing's SettableContextStorageProvider
 * takes precedence over every other provider.
 */
public final class InstallMdcFirst implements LauncherSessionListener {

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    TraceletMdc.install();
  }
}
