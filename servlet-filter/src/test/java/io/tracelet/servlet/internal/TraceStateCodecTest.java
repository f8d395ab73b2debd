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
  void exactly32Members_areKept() {
    String normalized = TraceStateCodec.normalize(List.of(members(0, 32)));
    assertThat(normalized.split(",")).hasSize(32);
    assertThat(normalized).startsWith("k0=v,k1=v").endsWith("k31=v");
  }

  // Regression: 33 members used to be cut to the first 32; W3C says such a list is invalid.
  @Test
  void moreThan32Members_dropTheTracestate_alsoAcrossHeaders() {
    assertThat(TraceStateCodec.normalize(List.of(members(0, 33)))).isNull();
    assertThat(TraceStateCodec.normalize(List.of(members(0, 20), members(20, 33)))).isNull();
    // A repeated key is one member: 32 distinct keys plus a repeat are still within the limit.
    assertThat(TraceStateCodec.normalize(List.of(members(0, 32), "k5=w"))).isNotNull();
  }

  private static String members(int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < to; i++) {
      sb.append(i == from ? "" : ",").append("k").append(i).append("=v");
    }
    return sb.toString();
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
