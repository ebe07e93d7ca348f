#!/usr/bin/env bash
# Builds android_demo/core with javac and runs its JUnit 4 tests (golden vectors included).
# Installs a JDK and JUnit 4 from Debian only when they are missing.
# Last line: "N passed, N failed"; exit status non-zero on any failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
core="$here/core"

find_jar() {  # first existing jar among the arguments
  for j in "$@"; do [ -f "$j" ] && { echo "$j"; return 0; }; done
  return 1
}
junit_jar() { find_jar /usr/share/java/junit4.jar /usr/share/java/junit4-4*.jar; }
hamcrest_jar() { find_jar /usr/share/java/hamcrest-core.jar /usr/share/java/hamcrest.jar /usr/share/java/hamcrest-all.jar; }

if ! command -v javac >/dev/null 2>&1 || ! junit_jar >/dev/null || ! hamcrest_jar >/dev/null; then
  echo "installing default-jdk-headless and junit4 from Debian"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq default-jdk-headless junit4 >/dev/null
fi
if ! command -v javac >/dev/null 2>&1 || ! junit_jar >/dev/null || ! hamcrest_jar >/dev/null; then
  echo "javac or the JUnit 4 / Hamcrest jars are still missing after apt-get install"
  echo "0 passed, 1 failed"
  exit 1
fi
cp_jars="$(junit_jar):$(hamcrest_jar)"

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
mkdir -p "$build/main" "$build/test"

if ! javac --release 17 -Xlint:all -d "$build/main" $(find "$core/src/main/java" -name '*.java') \
    || ! javac --release 17 -d "$build/test" -cp "$build/main:$cp_jars" \
         $(find "$core/src/test/java" -name '*.java'); then
  echo "compilation failed"
  echo "0 passed, 1 failed"
  exit 1
fi

classes=$(cd "$core/src/test/java" && find . -name '*Test.java' | sed 's|^\./||; s|\.java$||; s|/|.|g' | sort)
log="$build/junit.log"
java -cp "$build/main:$build/test:$core/src/test/resources:$cp_jars" org.junit.runner.JUnitCore \
  $classes 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

if ok=$(grep -Eo '^OK \([0-9]+ tests?\)' "$log"); then
  run=$(echo "$ok" | grep -Eo '[0-9]+'); failed=0
elif counts=$(grep -Eo '^Tests run: [0-9]+, +Failures: [0-9]+' "$log"); then
  run=$(echo "$counts" | grep -Eo '[0-9]+' | sed -n 1p)
  failed=$(echo "$counts" | grep -Eo '[0-9]+' | sed -n 2p)
else
  run=0; failed=1  # the runner itself did not finish
fi
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$((run - failed < 0 ? 0 : run - failed)) passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
