#!/usr/bin/env bash
# Builds an .ipk of leakguard per OpenWrt 24.10 architecture from the cross builds, in the format
# OpenWrt's scripts/ipkg-build writes (what opkg and the packages feed's CI read):
#
#   scripts/release-ipk.sh [--out DIR] [ARCH...]
#
# ARCH: mips_24kc mipsel_24kc arm_cortex-a7_neon-vfpv4 aarch64_cortex-a53 (default: all four).
# The binaries come from scripts/cross-build.sh (target/<triple>/router/leakguard); run it first.
# Output: DIR/leakguard_<version>-r<release>_<arch>.ipk (DIR default: target/ipk).
#
# The package holds what the feed package installs (openwrt-package/leakguard/Makefile): the
# binary in /usr/sbin, the config /etc/leakguard/leakguard.toml (a conffile, in monitor mode),
# the procd init script, the ujail capabilities file. Control fields, postinst and prerm are
# those OpenWrt's package-pack.mk writes (default_postinst / default_prerm; Require-User makes
# default_postinst create the `leakguard` user and group). Unlike the feed's build, which links
# against the router's shared musl, these binaries are static.
#
# Reproducible: every timestamp is SOURCE_DATE_EPOCH (default: the last commit's time), owners
# are 0:0, names sorted, gzip without name or time.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/ipk
archs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift ;;
    -h | --help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "release-ipk: unknown option $1" >&2; exit 2 ;;
    *) archs+=("$1") ;;
  esac
  shift
done
[ ${#archs[@]} -gt 0 ] || archs=(mips_24kc mipsel_24kc arm_cortex-a7_neon-vfpv4 aarch64_cortex-a53)

triple_of() {
  case "$1" in
    mips_24kc) echo mips-unknown-linux-musl ;;
    mipsel_24kc) echo mipsel-unknown-linux-musl ;;
    arm_cortex-a7_neon-vfpv4) echo armv7-unknown-linux-musleabihf ;;
    aarch64_cortex-a53) echo aarch64-unknown-linux-musl ;;
    *) echo "release-ipk: unknown architecture $1" >&2; return 2 ;;
  esac
}

pkgdir=openwrt-package/leakguard
# The package's identity, from the feed Makefile (one place).
mkvar() { sed -n "s/^$1:=//p" "$pkgdir/Makefile" | head -n1; }
name=$(mkvar PKG_NAME)
version=$(mkvar PKG_VERSION)
release=$(mkvar PKG_RELEASE)
license=$(mkvar PKG_LICENSE)
license_files=$(mkvar PKG_LICENSE_FILES)
maintainer=$(mkvar PKG_MAINTAINER)
url=$(sed -n 's/^  URL:=//p' "$pkgdir/Makefile" | head -n1)
section=$(sed -n 's/^  SECTION:=//p' "$pkgdir/Makefile" | head -n1)
userid=$(sed -n 's/^  USERID:=//p' "$pkgdir/Makefile" | head -n1)
# DEPENDS without the arch condition, `+` dropped, joined as package-pack.mk's mergelist does;
# every package also depends on libc.
# shellcheck disable=SC1003 # tr's escaped backslash
depends=$(sed -n '/^  DEPENDS:=/,/[^\\]$/p' "$pkgdir/Makefile" | tr -d '\\' | tr ' ' '\n' \
  | sed -n 's/^+//p' | paste -sd, | sed 's/,/, /g')
depends="libc, $depends"
# The description: package-pack.mk writes `Description:` then each line with its leading
# blanks replaced by one space.
description=$(sed -n '/^define Package\/leakguard\/description/,/^endef/p' "$pkgdir/Makefile" \
  | sed '1d;$d' | sed -e 's,^[[:space:]]*, ,g')

cargo_version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
if [ "$cargo_version" != "$version" ]; then
  echo "release-ipk: PKG_VERSION $version differs from Cargo.toml's $cargo_version" >&2
  exit 1
fi

: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C
timestamp=$(date --date="@$SOURCE_DATE_EPOCH")
tar_opts=(--format=gnu --numeric-owner --owner=0 --group=0 --sort=name --mtime="$timestamp")

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for arch in "${archs[@]}"; do
  triple=$(triple_of "$arch")
  bin=target/$triple/router/leakguard
  if [ ! -f "$bin" ]; then
    echo "release-ipk: $bin is missing: run scripts/cross-build.sh $triple first" >&2
    exit 1
  fi
  root=$work/$arch
  rm -rf "$root"
  # The feed Makefile's Package/leakguard/install, with INSTALL_* modes.
  install -d -m0755 "$root" "$root/usr/sbin" "$root/etc/leakguard" "$root/etc/init.d" \
    "$root/usr/share/leakguard" "$root/CONTROL"
  install -m0755 "$bin" "$root/usr/sbin/leakguard"
  sed 's/^mode = "enforce"/mode = "monitor"/' etc/leakguard.toml >"$work/leakguard.toml"
  install -m0600 "$work/leakguard.toml" "$root/etc/leakguard/leakguard.toml"
  install -m0755 "$pkgdir/files/leakguard.init" "$root/etc/init.d/leakguard"
  install -m0644 "$pkgdir/files/capabilities.json" "$root/usr/share/leakguard/capabilities.json"

  # CONTROL, as package-pack.mk writes it (fields in its order, Installed-Size filled below).
  {
    echo "Package: $name"
    echo "Version: $version-r$release"
    echo "Depends: $depends"
    echo "Source: feeds/leakguard/$pkgdir"
    echo "SourceName: $name"
    echo "License: $license"
    echo "LicenseFiles: $license_files"
    echo "Section: $section"
    echo "Require-User: $userid"
    echo "SourceDateEpoch: $SOURCE_DATE_EPOCH"
    echo "URL: $url"
    echo "Maintainer: $maintainer"
    echo "Architecture: $arch"
    echo "Installed-Size: 0"
    printf 'Description: '
    echo "$description"
  } >"$root/CONTROL/control"
  chmod 0644 "$root/CONTROL/control"
  echo /etc/leakguard/leakguard.toml >"$root/CONTROL/conffiles"
  chmod 0644 "$root/CONTROL/conffiles"
  # shellcheck disable=SC2016 # the scripts' own text
  {
    echo '#!/bin/sh'
    echo '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0'
    echo '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'
    echo '. ${IPKG_INSTROOT}/lib/functions.sh'
    echo 'default_postinst $0 $@'
  } >"$root/CONTROL/postinst"
  # shellcheck disable=SC2016
  {
    echo '#!/bin/sh'
    echo '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'
    echo '. ${IPKG_INSTROOT}/lib/functions.sh'
    echo 'default_prerm $0 $@'
  } >"$root/CONTROL/prerm"
  chmod 0755 "$root/CONTROL/postinst" "$root/CONTROL/prerm"

  # ipkg-build: data.tar.gz without CONTROL, Installed-Size = its uncompressed size,
  # control.tar.gz, then the outer tar.gz of ./debian-binary ./data.tar.gz ./control.tar.gz.
  parts=$work/parts.$arch
  mkdir -p "$parts"
  (cd "$root" && tar --exclude=./CONTROL "${tar_opts[@]}" -cpf - . | gzip -n -) >"$parts/data.tar.gz"
  size=$(zcat <"$parts/data.tar.gz" | wc -c)
  sed -i "s/^Installed-Size: .*/Installed-Size: $size/" "$root/CONTROL/control"
  (cd "$root/CONTROL" && tar "${tar_opts[@]}" -cf - . | gzip -n -) >"$parts/control.tar.gz"
  echo "2.0" >"$parts/debian-binary"
  ipk=$out/${name}_${version}-r${release}_${arch}.ipk
  rm -f "$ipk"
  (cd "$parts" && tar "${tar_opts[@]}" -cf - ./debian-binary ./data.tar.gz ./control.tar.gz \
    | gzip -n -) >"$ipk"
  echo "release-ipk: $ipk $(stat -c %s "$ipk") bytes (Installed-Size $size)"
done
