#!/bin/sh
# The feed CI's version check: sh test-version.sh PKG_NAME PKG_VERSION. The binary must print
# the bare package version.
case "$1" in
	leakguard)
		out=$(leakguard --version 2>&1)
		echo "leakguard --version: $out"
		echo "$out" | grep -Fw -- "$2"
		;;
esac
