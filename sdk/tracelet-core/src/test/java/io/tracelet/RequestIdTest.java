package io.tracelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(ContextLeakCheck.class)
class RequestIdTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a",
        "abc-123",
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "req+/=._@:-ID",
        "550e8400-e29b-41d4-a716-446655440000"
      })
  void validIncomingIds_areUsedVerbatim(String incoming) {
    RequestId id = RequestId.parseOrGenerate(incoming);
    assertThat(id.value()).isEqualTo(incoming);
    assertThat(id.isGenerated()).isFalse();
  }

  @Test
  void longestValidId_isAccepted() {
    String max = "x".repeat(200);
    assertThat(RequestId.parseOrGenerate(max).value()).isEqualTo(max);
  }

  static Stream<String> invalidIds() {
    return Stream.of(
        "",
        "x".repeat(201),
        "y".repeat(10_240),
        "has space",
        "a;b",
        "a; X-Evil: 1",
        "quote\"d",
        "abc\r\nERROR forged",
        "tab\there",
        "caf\u00e9",
        "\u001b[31mred",
        "emoji\uD83D\uDE00",
        "nul\u0000");
  }

  @ParameterizedTest
  @MethodSource("invalidIds")
  void invalidIncomingIds_areReplacedNotRepaired(String incoming) {
    RequestId id = RequestId.parseOrGenerate(incoming);
    assertThat(id.isGenerated()).isTrue();
    assertThat(id.value()).matches("[0-9a-f]{32}");
    assertThat(RequestId.isValid(incoming)).isFalse();
  }

  @Test
  void nullIncomingId_isReplaced() {
    assertThat(RequestId.parseOrGenerate(null).isGenerated()).isTrue();
  }

  @Test
  void generatedIds_are32LowercaseHexAndDistinct() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String v = RequestId.generate().value();
      assertThat(v).matches("[0-9a-f]{32}");
      seen.add(v);
    }
    assertThat(seen).hasSize(10_000);
  }

  @Test
  void of_rejectsInvalidValuesWithAnExplanation() {
    assertThatThrownBy(() -> RequestId.of("a b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("parseOrGenerate");
    assertThat(RequestId.of("ok").value()).isEqualTo("ok");
  }

  @Test
  void storeInContext_returnsANewContextAndLeavesTheOldOneAlone() {
    Context root = Context.root();
    RequestId id = RequestId.of("r-1");
    Context withId = id.storeInContext(root);
    assertThat(withId).isNotSameAs(root);
    assertThat(RequestId.fromContext(withId)).isSameAs(id);
    assertThat(RequestId.fromContext(root)).isNull();
  }

  @Test
  void current_readsTheCurrentContext() {
    assertThat(RequestId.current()).isNull();
    assertThat(RequestId.currentValue()).isEmpty();
    try (Scope s = RequestId.of("r-2").storeInContext(Context.current()).makeCurrent()) {
      assertThat(RequestId.current().value()).isEqualTo("r-2");
      assertThat(RequestId.currentValue()).isEqualTo("r-2");
    }
    assertThat(RequestId.current()).isNull();
  }

  @Test
  void anotherLibraryUsingTheSameKeyName_cannotReadOrOverwriteOurValue() {
    ContextKey<Object> impostor = ContextKey.named("tracelet.request-id");
    Context ctx = RequestId.of("ours").storeInContext(Context.root());
    assertThat(ctx.get(impostor)).isNull();
    Context overwritten = ctx.with(impostor, "theirs");
    assertThat(RequestId.fromContext(overwritten).value()).isEqualTo("ours");
  }

  @Test
  void equalityIsByValue() {
    assertThat(RequestId.of("same")).isEqualTo(RequestId.parseOrGenerate("same"));
    assertThat(RequestId.of("same")).hasSameHashCodeAs(RequestId.of("same"));
    assertThat(RequestId.of("same")).hasToString("same");
  }
}
