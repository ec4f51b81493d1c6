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
  apt_install openssl python3 || return 1
}
