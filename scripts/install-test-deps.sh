#!/usr/bin/env bash
# What the test suite needs, on a fresh Debian machine: Debian's headless Chromium (the explain
# page is rendered and measured in it) and chainrule with its test extras, editable, in the active Python.
# Used by the README's test command and by .ci/run, so the two cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "install-test-deps: installing Debian's chromium (headless browser for the explain page tests)"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-test-deps: chromium is missing and this user cannot install Debian packages;" \
         "run 'apt-get install chromium' as root, then this script again" >&2
    exit 1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

python -m pip install -q --upgrade pip
python -m pip install -q -e ".[test]"
