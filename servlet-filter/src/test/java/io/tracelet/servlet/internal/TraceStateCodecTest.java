package io.tracelet.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TraceStateCodecTest {

  @Test
  void repeatedHeaders_areCombinedInOrder() {
    assertThat(TraceStateCodec.normalize(List.of("a=1,b=2", "c=3"))).isEqualTo("a=1,b=2,c=3");
  }

  @Test
  void whitespaceAndEmptyMembers_areDropped() {
    assertThat(TraceStateCodec.normalize(List.of(" a=1 ,\t, b=2\t"))).isEqualTo("a=1,b=2");
  }

  @Test
  void duplicatedKey_keepsFirstMember_andTheOthers() {
    assertThat(TraceStateCodec.normalize(List.of("a=1,b=2", "a=3,c=4"))).isEqualTo("a=1,b=2,c=4");
  }

  @Test
  void moreThan32Members_keepsTheFirst32() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      sb.append(i == 0 ? "" : ",").append("k").append(i).append("=v");
    }
    String normalized = TraceStateCodec.normalize(List.of(sb.toString()));
    assertThat(normalized.split(",")).hasSize(32);
    assertThat(normalized).startsWith("k0=v,k1=v").endsWith("k31=v");
  }

  @Test
  void keys_followCurrentGrammar() {
    assertThat(TraceStateCodec.isValidKey("vendor")).isTrue();
    assertThat(TraceStateCodec.isValidKey("a_b-c*d/e")).isTrue();
    assertThat(TraceStateCodec.isValidKey("1tenant@sys")).isTrue();
    assertThat(TraceStateCodec.isValidKey("t".repeat(241) + "@s" + "x".repeat(13))).isTrue();
    assertThat(TraceStateCodec.isValidKey("1vendor")).isFalse();
    assertThat(TraceStateCodec.isValidKey("Vendor")).isFalse();
    assertThat(TraceStateCodec.isValidKey("tenant@1sys")).isFalse();
    assertThat(TraceStateCodec.isValidKey("t".repeat(242) + "@s")).isFalse();
    assertThat(TraceStateCodec.isValidKey("t@s" + "x".repeat(14))).isFalse();
    assertThat(TraceStateCodec.isValidKey("k".repeat(257))).isFalse();
  }

  @Test
  void malformedMember_dropsTheWholeTracestate() {
    assertThat(TraceStateCodec.normalize(List.of("a=1,novalue"))).isNull();
    assertThat(TraceStateCodec.normalize(List.of("a=1,B=2"))).isNull();
    assertThat(TraceStateCodec.normalize(List.of("a=x=y"))).isNull();
    assertThat(TraceStateCodec.normalize(List.of("a=" + "v".repeat(257)))).isNull();
  }

  @Test
  void nothingToKeep_isNull() {
    assertThat(TraceStateCodec.normalize(List.of(" , "))).isNull();
    assertThat(TraceStateCodec.normalize(List.of())).isNull();
  }

  @Test
  void outbound_over512_isTruncatedByWholeEntries_longOnesFirst() {
    String longEntry = "big=" + "x".repeat(200);
    StringBuilder sb = new StringBuilder("first=1," + longEntry);
    for (int i = 0; i < 40; i++) {
      sb.append(",k").append(i).append("=").append("v".repeat(8));
    }
    String truncated = TraceStateCodec.truncate(sb.toString());
    assertThat(truncated.length()).isLessThanOrEqualTo(512);
    assertThat(truncated).startsWith("first=1,k0=").doesNotContain("big=");
    for (String entry : truncated.split(",")) {
      assertThat(sb.toString()).contains(entry);
    }
  }

  @Test
  void outbound_within512_isUnchanged() {
    String header = "a=1,b=2";
    assertThat(TraceStateCodec.truncate(header)).isSameAs(header);
  }
}
