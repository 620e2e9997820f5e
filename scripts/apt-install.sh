# Sourced by the install scripts: installs the Debian packages given (as root), or says which are missing.
# Usage: apt_install <log tag> <package>...
apt_install() {
  local tag=$1
  shift
  (($#)) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    printf '[%s] missing system packages: %s; run this script as root (or: sudo apt-get install %s)\n' "$tag" "$*" "$*"
    exit 1
  fi
  printf '[%s] installing: %s\n' "$tag" "$*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@"
}
