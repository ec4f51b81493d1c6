# Idempotent installers shared by tests/run and the suites. Each skips what is present.
# Sourced, not executed.

apt_updated=0
apt_install() {
  # apt_install PKG... : installs the Debian packages that are missing.
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
    apt_updated=1
  fi
  echo "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

rustup_targets() {
  local installed
  installed=$(rustup target list --installed)
  for t in "$@"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t" || return 1
  done
}

install_base() {
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt || return 1
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy || return 1
  rustup_targets wasm32-unknown-unknown thumbv7em-none-eabihf || return 1
}

# Every Debian package a test or suite uses: openssl (s_server), gnutls-bin (gnutls-serv),
# python3 (servers), chromium + chromium-driver (browser tests), websockify.
DEBIAN_PACKAGES=(openssl python3 gnutls-bin chromium chromium-driver websockify)

# The downloads (Debian packages, the nightly toolchain for the fuzz suite) run in the
# background while the first cargo build compiles: on a fresh machine they are mostly
# waiting on the network. install_downloads_wait joins them; nothing may use apt before.
install_downloads_start() {
  INSTALL_LOG=$(mktemp "${TMPDIR:-/tmp}/tlsferry-install.XXXXXX")
  (
    set -o pipefail
    apt_install "${DEBIAN_PACKAGES[@]}" || exit 1
    if [ "${QUICK:-0}" != 1 ] && ! rustup toolchain list | grep -q '^nightly'; then
      rustup toolchain install nightly --profile minimal || exit 1
    fi
  ) >"$INSTALL_LOG" 2>&1 &
  INSTALL_PID=$!
}

install_downloads_wait() {
  local status=0
  wait "$INSTALL_PID" || status=$?
  cat "$INSTALL_LOG"
  rm -f "$INSTALL_LOG"
  return "$status"
}
