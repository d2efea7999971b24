#!/bin/sh
# The feed CI's package test: sh test.sh PKG_NAME PKG_VERSION, run on the target (qemu-user)
# after the package is installed. Prints what it matched; exit 0 = pass.
set -e
case "$1" in
	leakguard) ;;
	*) exit 0 ;;
esac
conf=${LEAKGUARD_CONF:-/etc/leakguard/leakguard.toml}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The version, bare.
sh "$(dirname "$0")/test-version.sh" "$1" "$2"

# The shipped config is valid and starts in monitor mode.
leakguard check-config "$conf"
grep -n '^mode = "monitor"' "$conf"

# The engine on this CPU: a raw-IP capture of one UDP datagram from a LAN address carrying
# `imei=490154203237518` (a valid IMEI, next to its key). scan exits 1 when it finds a leak.
{
	printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\145\000\000\000'
	printf '\000\361\123\145\000\000\000\000\127\000\000\000\127\000\000\000'
	printf '\105\000\000\127\000\001\000\000\100\021\174\316\300\250\001\027\313\000\161\007'
	printf '\234\100\037\220\000\103\000\000'
	printf 'GET /reg?imei=490154203237518 HTTP/1.1\r\nHost: x.example\r\n\r\n'
} >"$tmp/leak.pcap"
rc=0
leakguard scan --format json "$tmp/leak.pcap" >"$tmp/out" 2>"$tmp/err" || rc=$?
cat "$tmp/out" "$tmp/err"
[ "$rc" = 1 ]
grep -o '"kind":"imei"' "$tmp/out"
grep -o '"value":"4901\*\*\*\*\*\*\*\*518"' "$tmp/out"
