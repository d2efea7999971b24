# shellcheck shell=dash
# A recording stand-in for the procd_* helpers of OpenWrt's /lib/functions/procd.sh, for testing
# what an init script hands to procd without procd, ubus or jshn (libubox is not in Debian).
#
# It follows what the real helpers put into the JSON message procd receives (procd.sh, jshn):
#   - command, netdev, file, respawn, watch, watchdog: arrays of strings, one per argument;
#   - env, data, limits: objects of KEY=VALUE strings;
#   - nice, term_timeout: integers; reload_signal: the signal's number (`kill -l NAME`);
#   - user, group, capabilities, pidfile, seccomp, facility, …: strings (first argument);
#   - stdout, stderr, no_new_privs: booleans as jshn makes them, `!!atoi(value)`: so a bare
#     `procd_set_param no_new_privs` (no value) is FALSE;
#   - unknown parameter types are dropped, as procd.sh drops them;
#   - an empty `respawn` is filled in at procd_close_instance with 3600 5 5 (the defaults of
#     system.@service[0]);
#   - procd_add_jail NAME FLAGS…: jail.name, a boolean per known flag (log ubus udebug procfs
#     sysfs ronly requirejail netns userns cgroupsns), and an empty mount object;
#     procd_add_jail_mount[_rw] PATHS… adds "path": "0" (read-only) or "1" to jail.mount, the
#     arguments word-split as procd.sh's unquoted `for a in $@` does, and only after
#     procd_add_jail (otherwise ignored);
#   - procd_add_reload_trigger CONFIG…: a config.change trigger per config running
#     `/etc/init.d/NAME reload`, with the 1000 ms reload delay.
#
# Every value goes to $PROCD_RECORD as one line: TYPE<TAB>VALUE<TAB>KEY<TAB>KEY…, KEY `[]` being
# the next element of an array. procd_close_service calls service_triggers, like the real one.

_procd_rec() {
	local type="$1" value="$2" IFS='	'
	shift 2
	printf '%s\t%s\t%s\n' "$type" "$value" "$*" >>"$PROCD_RECORD"
}

# jshn's booleans: !!atoi(value).
_procd_bool() {
	local n="${1%%[!0-9]*}"
	if [ -n "$n" ] && [ "$n" -ne 0 ]; then echo true; else echo false; fi
}

# `kill -l NAME` as busybox ash answers it; dash's kill -l takes numbers only, so the common
# names are looked up here (HUP, INT, QUIT, KILL, TERM have the same numbers on every Linux
# architecture; USR1/USR2 differ on MIPS and are left out).
_procd_signum() {
	local n
	n=$(kill -l "$1" 2>/dev/null) && [ -n "$n" ] && { echo "$n"; return; }
	case "${1#SIG}" in
		HUP) echo 1 ;; INT) echo 2 ;; QUIT) echo 3 ;; KILL) echo 9 ;; TERM) echo 15 ;;
		*) echo "procd-standin: unknown signal $1" >&2; return 1 ;;
	esac
}

procd_open_service() {
	_PROCD_SERVICE="$1"
	_PROCD_INSTANCE_SEQ=0
	_procd_rec string "$1" name
	[ -n "$2" ] && _procd_rec string "$2" script
	_procd_rec object "" instances
}

procd_close_service() {
	_procd_rec array "" triggers
	service_triggers
	_procd_rec call "${1:-set}" ubus
}

procd_open_instance() {
	_PROCD_INSTANCE_SEQ=$((_PROCD_INSTANCE_SEQ + 1))
	_PROCD_INSTANCE="${1:-instance$_PROCD_INSTANCE_SEQ}"
	_PROCD_JAIL=
	_PROCD_RESPAWN=
	_procd_rec object "" instances "$_PROCD_INSTANCE"
}

_procd_param() {
	local type="$1" append="$2"
	shift 2
	local key=instances
	case "$type" in
		env | data | limits)
			[ -n "$append" ] || _procd_rec object "" $key "$_PROCD_INSTANCE" "$type"
			while [ -n "$1" ]; do
				local var="${1%%=*}" val="${1#*=}"
				[ "$1" = "$val" ] && val=
				_procd_rec string "$val" $key "$_PROCD_INSTANCE" "$type" "$var"
				shift
			done
			;;
		command | netdev | file | respawn | watch | watchdog)
			[ -n "$append" ] || _procd_rec array "" $key "$_PROCD_INSTANCE" "$type"
			[ "$type" = respawn ] && _PROCD_RESPAWN="${_PROCD_RESPAWN}x$#"
			while [ "$#" -gt 0 ]; do
				_procd_rec string "$1" $key "$_PROCD_INSTANCE" "$type" "[]"
				shift
			done
			;;
		error)
			[ -n "$append" ] || _procd_rec array "" $key "$_PROCD_INSTANCE" "$type"
			_procd_rec string "$*" $key "$_PROCD_INSTANCE" "$type" "[]"
			;;
		nice | term_timeout)
			_procd_rec int "$1" $key "$_PROCD_INSTANCE" "$type"
			;;
		reload_signal)
			_procd_rec int "$(_procd_signum "$1")" $key "$_PROCD_INSTANCE" "$type"
			;;
		pidfile | user | group | seccomp | capabilities | facility | extroot | overlaydir | \
			tmpoverlaysize | vrf)
			_procd_rec string "$1" $key "$_PROCD_INSTANCE" "$type"
			;;
		stdout | stderr | no_new_privs)
			_procd_rec boolean "$(_procd_bool "$1")" $key "$_PROCD_INSTANCE" "$type"
			;;
	esac
}

procd_set_param() {
	local type="$1"
	shift
	_procd_param "$type" "" "$@"
}

procd_append_param() {
	local type="$1"
	shift
	_procd_param "$type" append "$@"
}

procd_close_instance() {
	# procd.sh: an empty respawn array gets the uci defaults.
	if [ "$_PROCD_RESPAWN" = "x0" ]; then
		local v
		for v in 3600 5 5; do
			_procd_rec string "$v" instances "$_PROCD_INSTANCE" respawn "[]"
		done
	fi
	_PROCD_INSTANCE=
}

procd_add_jail() {
	_PROCD_JAIL=1
	_procd_rec object "" instances "$_PROCD_INSTANCE" jail
	_procd_rec string "$1" instances "$_PROCD_INSTANCE" jail name
	shift
	local a
	# shellcheck disable=SC2068 # word splitting as in procd.sh
	for a in $@; do
		case "$a" in
			log | ubus | udebug | procfs | sysfs | ronly | requirejail | netns | userns | cgroupsns)
				_procd_rec boolean true instances "$_PROCD_INSTANCE" jail "$a"
				;;
		esac
	done
	_procd_rec object "" instances "$_PROCD_INSTANCE" jail mount
}

_procd_jail_mount() {
	local rw="$1" a
	shift
	[ -n "$_PROCD_JAIL" ] || return 0
	# shellcheck disable=SC2068 # word splitting as in procd.sh
	for a in $@; do
		_procd_rec string "$rw" instances "$_PROCD_INSTANCE" jail mount "$a"
	done
}

procd_add_jail_mount() { _procd_jail_mount 0 "$@"; }
procd_add_jail_mount_rw() { _procd_jail_mount 1 "$@"; }

procd_add_reload_trigger() {
	local name file
	name=$(basename "${initscript:-leakguard}")
	for file in "$@"; do
		_procd_rec trigger "config.change package=$file run_script=/etc/init.d/$name,reload delay=1000" triggers "[]"
	done
}

procd_kill() { _procd_rec call "delete $1 $2" ubus; }
procd_send_signal() { _procd_rec call "signal $1 $2 $3" ubus; }
