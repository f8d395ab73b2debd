package io.tracelet.it;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;

/** The application under test: a few controllers and Spring Security, no component scan. */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({TestController.class, TestSecurity.class})
public class TestApp {}
