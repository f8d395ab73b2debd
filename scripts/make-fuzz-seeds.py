#!/usr/bin/env python3
"""Writes the seed corpus of the servlet-filter fuzz tests (docs/fuzzing.md).

Seeds are text in the FuzzHeaders format: one `name:value` header per line, `@config=NAME`
picks a filter configuration, and `\\uXXXX`, `\\r`, `\\n`, `\\t`, `\\\\` are unescaped, so the
control characters are visible here. Some seeds also carry raw bytes (TAB, CR, NUL, invalid
UTF-8) so that both spellings are exercised. Re-run after editing; the output is committed.
Files named `*-found` are inputs the fuzzer found failing, kept as regression seeds; this script
leaves them alone.
"""
import os

ROOT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "servlet-filter", "src", "test", "resources", "io", "tracelet", "servlet", "internal")

TID = "0af7651916cd43dd8448eb211c80319c"
SID = "b7ad6b7169203331"
TP = f"00-{TID}-{SID}-01"
B3_TID = "80f198ee56343ba864fe8b2a57d3eff7"
B3_SID = "e457b5a2e4d86bd1"
# U+0000, TAB, CR, LF, U+007F, U+0080, U+00A0, U+00E9, U+00FF, U+2028, U+FFFE, U+FFFF, ESC
CONTROLS = {
    "nul": "\\u0000", "tab": "\\t", "cr": "\\r", "lf": "\\n", "del": "\\u007f",
    "c1": "\\u0080", "nbsp": "\\u00a0", "latin1": "\\u00e9", "yuml": "\\u00ff",
    "ls": "\\u2028", "fffe": "\\ufffe", "ffff": "\\uffff", "esc": "\\u001b[31m",
}


def lines(*ls):
    return "\n".join(ls).encode("utf-8")


def members(n, prefix="k", value="v"):
    return ",".join(f"{prefix}{i}={value}{i}" for i in range(n))


def request_seeds():
    s = {}
    s["empty-headers"] = b""
    s["traceparent-valid"] = lines(f"traceparent:{TP}", "tracestate:congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
                                   "baggage:tenant=acme,user=alice", "X-Request-ID:req-123")
    s["traceparent-unsampled"] = lines(f"traceparent:00-{TID}-{SID}-00")
    s["traceparent-flags-ff"] = lines(f"traceparent:00-{TID}-{SID}-ff")
    s["traceparent-version-ff"] = lines(f"traceparent:ff-{TID}-{SID}-01")
    s["traceparent-future-version"] = lines(f"traceparent:cc-{TID}-{SID}-01-what-the-future-holds")
    s["traceparent-future-version-no-extra"] = lines(f"traceparent:01-{TID}-{SID}-01")
    s["traceparent-v00-extra"] = lines(f"traceparent:{TP}-extra")
    s["traceparent-uppercase"] = lines(f"traceparent:00-{TID.upper()}-{SID}-01")
    s["traceparent-nonhex"] = lines(f"traceparent:00-{TID[:-1]}g-{SID}-01")
    s["traceparent-zero-trace"] = lines(f"traceparent:00-{'0' * 32}-{SID}-01")
    s["traceparent-zero-span"] = lines(f"traceparent:00-{TID}-{'0' * 16}-01")
    s["traceparent-31"] = lines(f"traceparent:00-{TID[:31]}-{SID}-01")
    s["traceparent-33"] = lines(f"traceparent:00-{TID}0-{SID}-01")
    s["traceparent-delims"] = lines(f"traceparent:00_{TID}_{SID}_01")
    s["traceparent-bad-flags"] = lines(f"traceparent:00-{TID}-{SID}-0x")
    s["traceparent-10k"] = lines(f"traceparent:{TP}" + "a" * 10240)
    s["traceparent-twice"] = lines(f"traceparent:{TP}", f"traceparent:00-{B3_TID}-{B3_SID}-01")
    s["traceparent-folded"] = lines(f"traceparent:{TP},{TP}")
    s["traceparent-ows-case"] = lines(f"TraceParent: \\t{TP}\\t ")
    s["traceparent-raw-tab"] = f"traceparent:\t{TP}\t".encode()
    for name, c in CONTROLS.items():
        s[f"control-{name}-everywhere"] = lines(
            f"traceparent:{TP}{c}", f"tracestate:a=b{c}", f"baggage:k=v{c}", f"X-Request-ID:id{c}x",
            f"X-Trace-ID:{TID}{c}", f"X-Request-Timeout-Ms:15{c}00", f"tr{c}aceparent:{TP}")
        s[f"control-{name}-inside-traceparent"] = lines(f"traceparent:00-{TID[:8]}{c}{TID[9:]}-{SID}-01")
    s["raw-bytes"] = b"traceparent:" + TP.encode() + b"\r\x00\x7f\x80\xff\xfe\n" + b"X-Request-ID:a\rb\x00\n"
    s["invalid-utf8"] = b"baggage:k=\xc3\x28,v=\xed\xa0\x80\nX-Request-ID:\xf0\x9f\x98\x80"
    # tracestate
    s["tracestate-32"] = lines(f"traceparent:{TP}", f"tracestate:{members(32)}")
    s["tracestate-33"] = lines(f"traceparent:{TP}", f"tracestate:{members(33)}")
    s["tracestate-long-entries"] = lines(
        f"traceparent:{TP}", "tracestate:" + ",".join(f"k{i}=" + "x" * 200 for i in range(5)) + ",short=1")
    s["tracestate-over-512"] = lines(
        f"traceparent:{TP}", "tracestate:" + ",".join(f"vendor{i}=" + "y" * 40 for i in range(20)))
    s["tracestate-max-key-value"] = lines(
        f"traceparent:{TP}", "tracestate:" + "a" * 256 + "=" + "v" * 256 + "," + "t" * 241 + "@" + "s" * 14 + "=x")
    s["tracestate-too-long-key"] = lines(f"traceparent:{TP}", "tracestate:" + "a" * 257 + "=v")
    # Keys W3C Trace Context Level 2 allows and Level 1 did not ("@" anywhere but first, a leading digit).
    s["tracestate-level2-keys"] = lines(
        f"traceparent:{TP}", "tracestate:a=1,foo@=2,foo@@bar=3,foo@bar@baz=4,1foo=5,t@1s=6,b=7")
    s["tracestate-bad-member"] = lines(f"traceparent:{TP}", "tracestate:a=1,B=2,c=3")
    s["tracestate-duplicates"] = lines(f"traceparent:{TP}", "tracestate:a=1,b=2,a=3")
    s["tracestate-several-headers"] = lines(f"traceparent:{TP}", "tracestate:a=1,b=2", "tracestate: c=3 ,,d=4")
    s["tracestate-without-traceparent"] = lines("tracestate:a=1")
    s["tracestate-value-space"] = lines(f"traceparent:{TP}", "tracestate:a=x y,b=z ")
    # B3
    s["b3-single"] = lines("@config=b3", f"b3:{B3_TID}-{B3_SID}-1")
    s["b3-single-16hex"] = lines("@config=b3", f"b3:{B3_TID[16:]}-{B3_SID}-1")
    s["b3-debug"] = lines("@config=b3", f"b3:{B3_TID}-{B3_SID}-d")
    s["b3-deny"] = lines("@config=b3", "b3:0")
    s["b3-five-parts"] = lines("@config=b3", f"b3:{B3_TID}-{B3_SID}-1-{SID}-x")
    s["b3-with-parent"] = lines("@config=b3", f"b3:{B3_TID}-{B3_SID}-1-{SID}")
    s["b3-zeros"] = lines("@config=b3", f"b3:{'0' * 32}-{'0' * 16}-1")
    s["b3-and-w3c-disagree"] = lines("@config=b3", f"traceparent:{TP}", f"b3:{B3_TID}-{B3_SID}-0")
    s["b3multi"] = lines("@config=b3multi", f"X-B3-TraceId:{B3_TID}", f"X-B3-SpanId:{B3_SID}",
                         "X-B3-Sampled:1", f"X-B3-ParentSpanId:{SID}")
    s["b3multi-16hex-flags"] = lines("@config=b3multi", f"x-b3-traceid:{B3_TID[:16]}",
                                     f"x-b3-spanid:{B3_SID}", "x-b3-flags:1")
    s["b3multi-and-w3c"] = lines("@config=b3multi", f"traceparent:{TP}", f"X-B3-TraceId:{B3_TID}",
                                 f"X-B3-SpanId:{B3_SID}", "X-B3-Sampled:0")
    s["all-jaeger"] = lines("@config=all", f"uber-trace-id:{B3_TID}:{B3_SID}:0:1",
                            "uberctx-tenant:acme%20corp", "baggage:user=bob")
    s["all-ottrace"] = lines("@config=all", f"ot-tracer-traceid:{B3_TID[16:]}",
                             f"ot-tracer-spanid:{B3_SID}", "ot-tracer-sampled:true", "ot-baggage-k:v")
    s["jaeger-bad-percent-escape"] = lines("@config=all", "uber-trace-id:%?", f"traceparent:{TP}")
    s["jaeger-encoded"] = lines("@config=all", f"uber-trace-id:{B3_TID}%3A{B3_SID}%3A0%3A1")
    s["all-everything"] = lines("@config=all", f"traceparent:{TP}", f"b3:{B3_TID}-{B3_SID}-1",
                                f"uber-trace-id:{B3_TID}:{B3_SID}:0:1", "baggage:a=1")
    # X-Trace-ID matrix
    s["xtraceid-valid"] = lines(f"X-Trace-ID:{TID}")
    s["xtraceid-uppercase"] = lines(f"X-Trace-ID:{TID.upper()}")
    s["xtraceid-16hex"] = lines(f"X-Trace-ID:{TID[:16]}")
    s["xtraceid-zeros"] = lines(f"X-Trace-ID:{'0' * 32}")
    s["xtraceid-junk"] = lines("X-Trace-ID:not-a-trace-id;<script>")
    s["xtraceid-10k"] = lines("X-Trace-ID:" + "f" * 10240)
    s["xtraceid-with-traceparent"] = lines(f"X-Trace-ID:{B3_TID}", f"traceparent:{TP}")
    s["xtraceid-with-bad-traceparent"] = lines(f"x-trace-id: {B3_TID} ", "traceparent:junk")
    # baggage
    s["baggage-percent"] = lines(f"traceparent:{TP}", "baggage:k1=hello%20world,k2=%E2%82%AC,k3=a%2Cb%3Dc;meta=1")
    s["baggage-bad-percent"] = lines("baggage:k=%zz,j=%,l=%e2%82")
    s["baggage-metadata"] = lines("baggage:k=v;p1;p2=x , other=y;")
    s["baggage-64"] = lines("baggage:" + members(64))
    s["baggage-65"] = lines("baggage:" + members(65))
    s["baggage-over-8192"] = lines("baggage:big=" + "b" * 8200)
    s["baggage-split-over-limit"] = lines("baggage:" + members(40), "baggage:" + members(30, "j"))
    s["baggage-tiny-entries"] = lines("baggage:" + ",".join("a=" for _ in range(2000)))
    s["baggage-crlf"] = lines("baggage:k=a%0D%0AX-Evil: 1,j=\\r\\nX-Evil: 2")
    s["baggage-odd-keys"] = lines("baggage:=v,k=,k k=v,k\"=v,ключ=v")
    # request ID and deadline
    s["request-id-valid"] = lines("X-Request-ID:abc-DEF_123.x/y+z=@:")
    s["request-id-forged-log"] = lines("X-Request-ID:abc\\r\\nERROR forged")
    s["request-id-ansi"] = lines("X-Request-ID:\\u001b[31mred\\u001b[0m")
    s["request-id-200"] = lines("X-Request-ID:" + "r" * 200)
    s["request-id-201"] = lines("X-Request-ID:" + "r" * 201)
    s["request-id-twice"] = lines("X-Request-ID:first", "x-request-id:second")
    s["deadline-valid"] = lines("X-Request-Timeout-Ms:1500")
    s["deadline-ows"] = lines("X-Request-Timeout-Ms: \\t1500\\t ")
    s["deadline-over-max"] = lines("X-Request-Timeout-Ms:999999999")
    s["deadline-ten-digits"] = lines("X-Request-Timeout-Ms:1000000000")
    s["deadline-zero"] = lines("X-Request-Timeout-Ms:0")
    s["deadline-negative"] = lines("X-Request-Timeout-Ms:-5")
    s["deadline-exponent"] = lines("X-Request-Timeout-Ms:1e3")
    s["deadline-unicode-digits"] = lines("X-Request-Timeout-Ms:\\u0661\\u0662")
    # configurations
    s["untrusted-sampled"] = lines("@config=untrusted", f"traceparent:{TP}", "X-Request-ID:abc",
                                   "baggage:k=v", "X-Request-Timeout-Ms:1")
    s["untrusted-unsampled"] = lines("@config=untrusted", f"traceparent:00-{TID}-{SID}-00")
    s["untrusted-xtraceid"] = lines("@config=untrusted", f"X-Trace-ID:{TID}")
    s["custom-headers"] = lines("@config=custom", "X-Correlation-ID:corr-1", "Grpc-Timeout-Ms:5000",
                                "X-Request-ID:ignored", "X-Request-Timeout-Ms:1", f"traceparent:{TP}")
    s["unknown-config"] = lines("@config=nope", f"traceparent:{TP}")
    return s


def value_seeds(values):
    return {name: lines(*(f"v:{v}" for v in vs)) for name, vs in values.items()}


def write(test_class, method, seeds):
    # Files already there are kept: `*-found` seeds are fuzzer findings kept as regression seeds.
    d = os.path.join(ROOT, f"{test_class}Inputs", method)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def main():
    req = request_seeds()
    write("ServerTracingFuzzTest", "beginAndRespond", req)
    write("ServerTracingFuzzTest", "extractInjectRoundTrip", req)
    write("HeaderParsersFuzzTest", "incomingGetter", req)
    ctl = list(CONTROLS.values())
    write("HeaderParsersFuzzTest", "traceState", value_seeds({
        "simple": ["congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"],
        "several-headers": ["a=1,b=2", " c=3 ,,d=4", "a=5"],
        "32": [members(32)],
        "33": [members(33)],
        "multi-tenant": ["t@s=1,0t@s=2,t@" + "s" * 14 + "=3"],
        "bad-keys": ["A=1", "_a=2", "@s=3", "a@S=4", "-a=5", "a.b=6", "k" * 257 + "=7"],
        "level2-keys": ["foo@=1", "foo@@bar=2", "foo@bar@baz=3", "1foo=4", "t" + "1" * 241 + "@x=5",
                        "t@" + "s" * 15 + "=6", "a=7"],
        "long": [",".join(f"k{i}=" + "x" * 200 for i in range(5)) + ",short=1"],
        "over-512": [",".join(f"vendor{i}=" + "y" * 40 for i in range(20))],
        "max-lengths": ["a" * 256 + "=" + "v" * 256],
        "controls": [f"k=v{c}" for c in ctl],
        "value-space": ["a=x y", "b=z "],
        "empty": ["", " ", ","],
    }))
    write("HeaderParsersFuzzTest", "traceStateKey", value_seeds({
        "valid": ["a", "0", "a_b-c*d/e@f", "k" * 256, "1foo", "t" + "1" * 241 + "@x"],
        "level2-at": ["foo@", "foo@@bar", "foo@bar@baz", "t@" + "s" * 15, "t@1s", "9@"],
        "invalid": ["", "k" * 257, "_foo", "@foo", "-foo", "*foo", "/foo", "Foo", "fOo", "foo bar",
                    " foo", "foo.bar", "foo,bar"],
        "members": ["foo@=1", "1foo=v", "foo=bar", "Foo=1", "_x=1", "foo@=a b", "k" * 257 + "=v",
                    "k" * 256 + "=" + "v" * 256, "foo@=", "foo@=a=b"],
        "lookalikes": ["\\u0131", "k\\u212a", "\\uff11foo", "foo\\u0430", "\\u00e9"],
        "controls": [f"k{c}" for c in ctl] + [f"{c}k" for c in ctl],
    }))
    write("HeaderParsersFuzzTest", "requestId", value_seeds({
        "valid": ["abc-DEF_123.x/y+z=@:", "r" * 200],
        "invalid": ["", " abc", "r" * 201, "abc\\r\\nERROR forged", "\\u001b[31mred", "a b", "a;b"],
        "controls": [f"id{c}" for c in ctl],
    }))
    write("HeaderParsersFuzzTest", "deadlineHeader", value_seeds({
        "valid": ["1", "1500", " 1500 ", "\\t42\\t", "999999999", "000000001"],
        "invalid": ["0", "-1", "+5", "1e3", "1000000000", "1.5", "", " ", "\\u0661\\u0662", "0x10"],
        "controls": [f"15{c}" for c in ctl],
    }))
    write("HeaderParsersFuzzTest", "traceIdHeader", value_seeds({
        "valid": [TID, f" {TID}\\t"],
        "invalid": [TID.upper(), TID[:16], "0" * 32, TID + "0", TID[:31], "junk", "", "f" * 10240],
        "controls": [f"{TID}{c}" for c in ctl] + [f"{c}{TID}" for c in ctl],
    }))


if __name__ == "__main__":
    main()
