#!/bin/sh
# Makes sure a headless Chromium is available for the browser tests (tests/browser/), which
# check the HTML reports and the live dashboard in a real browser.
#
# Silent and exit 0 when one is already there ($CHROMIUM, `chromium` or `chromium-browser`).
# Otherwise installs Debian's `chromium` with apt-get when it can (root and apt-get present),
# waiting for another apt/dpkg run that holds the lock instead of failing, and exits 1 with
# instructions when it cannot.
set -u

# Mirrors findChromium() in tests/browser/_chromium.ts, so both agree on what counts.
find_chromium() {
  if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then
    printf '%s\n' "$CHROMIUM"
    return 0
  fi
  command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null
}

fail() {
  printf 'ensure_chromium: %s\n' "$1" >&2
  exit 1
}

how_to_install="Install it with 'sudo apt-get install chromium' (Debian/Ubuntu: the package may \
be called chromium-browser), or point the CHROMIUM environment variable at a Chromium or \
Chrome executable, then rerun."

find_chromium >/dev/null && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  fail "the browser tests (tests/browser/) need a headless Chromium, but none was found \
(no \$CHROMIUM executable, no 'chromium' or 'chromium-browser' on PATH), and it cannot be \
installed automatically because this needs root and apt-get. $how_to_install"
fi

# Runs apt-get quietly, retrying for up to ten minutes while another apt/dpkg process holds its
# lock: an install (perhaps of chromium itself) may already be running in the background.
apt_get() {
  deadline=$(($(date +%s) + 600))
  while :; do
    if output=$(DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=60 "$@" 2>&1)
    then
      return 0
    fi
    case $output in
    *"Could not get lock"* | *"Unable to acquire"* | *"Unable to lock"* | *"is held by"*) ;;
    *)
      printf '%s\n' "$output" | tail -n 20 >&2
      return 1
      ;;
    esac
    # The run holding the lock may be the one installing chromium.
    find_chromium >/dev/null && exit 0
    if [ "$(date +%s)" -ge "$deadline" ]; then
      printf '%s\n' "$output" | tail -n 5 >&2
      return 1
    fi
    sleep 5
  done
}

echo "ensure_chromium: installing Debian's chromium with apt-get (no Chromium found; the \
browser tests in tests/browser/ need one)"
apt_get update || fail "'apt-get update' failed (output above). $how_to_install"
apt_get install -y chromium || fail "'apt-get install chromium' failed (output above). \
$how_to_install"

binary=$(find_chromium) || fail "apt-get installed chromium, but no 'chromium' is on PATH \
($PATH). $how_to_install"
"$binary" --version >/dev/null 2>&1 ||
  fail "$binary was installed but does not run ('$binary --version' failed). $how_to_install"
