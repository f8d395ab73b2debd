package io.tracelet.servlet.internal.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TraceStateCodecTest {

  @Test
  void anAlreadyNormalHeader_isReturnedAsIs_withoutBeingRebuilt() {
    String header = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,t@1s=x";
    assertThat(TraceStateCodec.normalize(List.of(header))).isSameAs(header);
  }

  @Test
  void theFastPath_acceptsExactlyWhatTheLongWayWouldLeaveUnchanged() {
    List<String> cases =
        List.of(
            "a=1",
            "a=1,b=2",
            "a=1,a=2",
            "a=1,b=2,a=3",
            "ab=1,a=2",
            "a=1,ab=2",
            "a=1, b=2",
            " a=1",
            "a=1 ",
            "a=1,",
            ",a=1",
            "a=1,,b=2",
            "a= 1",
            "a=",
            "=1",
            "a",
            "A=1",
            "a=1=2",
            "a=1\t",
            "k".repeat(256) + "=v",
            "k".repeat(257) + "=v",
            "a=" + "v".repeat(256),
            "a=" + "v".repeat(257),
            members(32),
            members(33));
    for (String h : cases) {
      String rebuilt = TraceStateCodec.rebuild(List.of(h));
      assertThat(TraceStateCodec.isNormal(h)).as(h).isEqualTo(h.equals(rebuilt));
      assertThat(TraceStateCodec.normalize(List.of(h))).as(h).isEqualTo(rebuilt);
    }
  }

  private static String members(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ",").append("k").append(i).append("=v");
    }
    return sb.toString();
  }

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

  // W3C Trace Context Level 2: key = ( lcalpha / DIGIT ) 0*255 ( keychar ), keychar adding "@".
  @Test
  void keys_followLevel2Grammar() {
    assertThat(TraceStateCodec.isValidKey("vendor")).isTrue();
    assertThat(TraceStateCodec.isValidKey("a_b-c*d/e@f")).isTrue();
    assertThat(TraceStateCodec.isValidKey("1tenant@sys")).isTrue();
    assertThat(TraceStateCodec.isValidKey("1foo")).isTrue();
    assertThat(TraceStateCodec.isValidKey("k".repeat(256))).isTrue();
    assertThat(TraceStateCodec.isValidKey("k".repeat(257))).isFalse();
    assertThat(TraceStateCodec.isValidKey("")).isFalse();
    assertThat(TraceStateCodec.isValidKey("Vendor")).isFalse();
    assertThat(TraceStateCodec.isValidKey("vEndor")).isFalse();
    assertThat(TraceStateCodec.isValidKey("_vendor")).isFalse();
    assertThat(TraceStateCodec.isValidKey("@vendor")).isFalse();
    assertThat(TraceStateCodec.isValidKey("-vendor")).isFalse();
    assertThat(TraceStateCodec.isValidKey("ven dor")).isFalse();
    assertThat(TraceStateCodec.isValidKey("ven.dor")).isFalse();
  }

  // Regression: the codec applied Level 1's tenant@system form (tenant up to 241, one "@", a system
  // ID of 1 to 14 characters starting with a letter, no leading digit without "@") and dropped the
  // tracestate for each of these. OpenTelemetry 1.67 still drops most of them (HostileInputTest).
  @Test
  void keysOnlyLevel2Allows_keepTheTracestate() {
    String tenant242 = "t" + "1".repeat(241);
    List<String> keys =
        List.of(
            "foo@",
            "foo@@bar",
            "foo@bar@baz",
            "1foo",
            tenant242 + "@x",
            "t@" + "s".repeat(15),
            "t@1s");
    for (String key : keys) {
      assertThat(TraceStateCodec.isValidKey(key)).as(key).isTrue();
      assertThat(TraceStateCodec.normalize(List.of("a=1," + key + "=1,b=2")))
          .as(key)
          .isEqualTo("a=1," + key + "=1,b=2");
    }
    assertThat(TraceStateCodec.normalize(List.of("foo@=1"))).isEqualTo("foo@=1");
  }

  @Test
  void keyOf256_isKept_keyOf257_dropsTheWholeTracestate() {
    String key256 = "k".repeat(256);
    assertThat(TraceStateCodec.normalize(List.of("a=1," + key256 + "=1"))).endsWith(key256 + "=1");
    assertThat(TraceStateCodec.normalize(List.of("a=1," + key256 + "k=1"))).isNull();
  }

  @Test
  void invalidKey_dropsTheWholeTracestate() {
    for (String key : List.of("_foo", "@foo", "-foo", "Foo", "fOo", "foo.bar")) {
      assertThat(TraceStateCodec.normalize(List.of("a=1," + key + "=1,b=2"))).as(key).isNull();
    }
  }

  @Test
  void level2Keys_keepTheOtherRules() {
    // A repeated key is still one member, the first one kept, however many "@" it has.
    assertThat(TraceStateCodec.normalize(List.of("foo@=1,a=2", "foo@=3"))).isEqualTo("foo@=1,a=2");
    // Still at most 32 members, whichever grammar the keys need.
    StringBuilder members = new StringBuilder();
    for (int i = 0; i < 32; i++) {
      members.append(i == 0 ? "" : ",").append(i).append("@=v");
    }
    assertThat(TraceStateCodec.normalize(List.of(members.toString()))).isNotNull();
    assertThat(TraceStateCodec.normalize(List.of(members + ",32@=v"))).isNull();
    // The value rules are unchanged.
    assertThat(TraceStateCodec.normalize(List.of("foo@=a=b"))).isNull();
    assertThat(TraceStateCodec.normalize(List.of("foo@=" + "v".repeat(257)))).isNull();
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
