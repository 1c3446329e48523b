#!/usr/bin/env bash
# Runs every test of the project and ends with one line: "N passed, N failed".
#
#   1. installs the system packages it needs when they are missing (root; apt-get)
#   2. builds, runs `swift test`
#   3. runs the upstream corpus (../shared/istio-iptables-corpus) with check.py --strict
#   4. as root: loads the generated rules into fresh network namespaces (tools/restore-check)
#   5. the simulator against the kernel on Tests/Scenarios (tools/scenario-check; live as root)
#   6. capture replay on Captures/ against the kernel's verdicts (tools/capture-check)
#
# Each test counts once: every swift test, every corpus case, every rule set loaded.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CORPUS=${CORPUS:-$ROOT/../shared/istio-iptables-corpus}
# Releases whose whole corpus must pass: every release directory of the corpus (1.10.0-1.30.3).
RELEASES=${RELEASES:-"$(ls "$CORPUS" 2>/dev/null | grep -E "^1\.[0-9]+\.[0-9]+$" | sort -V | tr "\n" " ")"}
RESTORE_RELEASES=${RESTORE_RELEASES:-"$RELEASES"}

passed=0
failed=0
log() { printf '\n==> %s\n' "$*"; }
add_counts() {  # add the "N passed, N failed" line of a stage's output
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    if [ -z "$line" ]; then
        failed=$((failed + 1))
        echo "(stage printed no summary: counted as one failure)"
        return
    fi
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
}

log "system packages"
missing=()
command -v iptables-restore >/dev/null 2>&1 || missing+=(iptables)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v tcpdump >/dev/null 2>&1 || missing+=(tcpdump)
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
command -v conntrack >/dev/null 2>&1 || missing+=(conntrack)
[ -e /usr/include/pcap/pcap.h ] || missing+=(libpcap-dev)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing: ${missing[*]}"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || { echo "apt-get install failed"; failed=$((failed + 1)); }
    else
        echo "missing ${missing[*]} (not root: install them with apt-get, or kernel checks will be skipped)"
    fi
else
    echo "all present"
fi

log "swift build"
if ! swift build 2>&1 | tail -3; then :; fi
if [ ! -x .build/debug/istio-iptables ]; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

log "swift test"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
swift test --disable-xctest 2>&1 | tee "$tmp/swift-test.log" | grep -E '✘|error:|Test run with|Executed' | tail -40
test_status=${PIPESTATUS[0]}
total=$(grep -Eo 'Test run with [0-9]+ test' "$tmp/swift-test.log" | tail -1 | grep -Eo '[0-9]+')
failing=$(grep -Ec '✘ Test .* (failed|recorded an issue)' "$tmp/swift-test.log" || true)
failing_tests=$(grep -E '✘ Test [^ ]+\(' "$tmp/swift-test.log" | grep -Eo 'Test [^ ]+\(' | sort -u | wc -l)
total=${total:-0}
if [ "$test_status" -ne 0 ] && [ "$failing_tests" -eq 0 ]; then failing_tests=1; fi
echo "swift test: $((total - failing_tests)) passed, $failing_tests failed (exit status $test_status)"
passed=$((passed + total - failing_tests))
failed=$((failed + failing_tests))

log "format (swift format lint, .swift-format)"
if tools/format --check >"$tmp/format.log" 2>&1; then
    echo "clean"
    passed=$((passed + 1))
else
    head -20 "$tmp/format.log"
    echo "run tools/format to fix"
    failed=$((failed + 1))
fi

log "upstream corpus (check.py --strict)"
if [ -d "$CORPUS" ]; then
    for v in $RELEASES; do
        python3 "$CORPUS/check.py" --strict --quiet "$CORPUS/$v" "$ROOT/.build/debug/istio-iptables" >"$tmp/corpus-$v.log" 2>&1
        echo "$v: $(tail -1 "$tmp/corpus-$v.log")"
        grep '^FAIL' "$tmp/corpus-$v.log" | head -20
        add_counts "$tmp/corpus-$v.log"
    done
else
    echo "SKIPPED: corpus not found at $CORPUS (it lives in ../shared/, next to this checkout)"
fi

log "kernel: every rule set loaded by the real iptables-restore, its iptables-save compared with ours, applied and cleaned up"
if [ "$(id -u)" = 0 ] && command -v iptables-restore >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    tools/restore-check --corpus "$CORPUS" $RESTORE_RELEASES >"$tmp/restore.log" 2>&1
    grep -E '^FAIL' "$tmp/restore.log" | head -20
    echo "rule sets loaded and compared with the real iptables-save: $(grep -c "^PASS [0-9lf]" "$tmp/restore.log") passed of $(grep -c "^\(PASS\|FAIL\) [0-9lf]" "$tmp/restore.log"); all checks: $(tail -1 "$tmp/restore.log")"
    add_counts "$tmp/restore.log"
else
    echo "SKIPPED: needs root and iptables"
fi

log "simulator vs kernel: Tests/Scenarios (live kernel-check as root, recorded results otherwise)"
tools/scenario-check >"$tmp/scenarios.log" 2>&1
grep -E "^(FAIL|  |flows|scenario-check)" "$tmp/scenarios.log" | head -30
add_counts "$tmp/scenarios.log"

log "capture replay: Captures/ (verdicts against the kernel's, rewritten captures read back by tshark)"
tools/capture-check >"$tmp/captures.log" 2>&1
grep -E "^(PASS|FAIL|  )" "$tmp/captures.log" | head -40
add_counts "$tmp/captures.log"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
