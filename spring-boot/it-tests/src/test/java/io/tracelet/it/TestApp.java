package io.tracelet.it;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.client.RestTemplate;

/** The application under test: a few controllers and Spring Security, no component scan. */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({TestController.class, TestSecurity.class})
public class TestApp {
  /** A client of the application's own; the starter adds its interceptor to it. */
  @Bean
  RestTemplate restTemplate() {
    return new RestTemplate();
  }
}
