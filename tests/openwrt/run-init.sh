#!/bin/sh
# shellcheck shell=dash
# Runs an init script's procd functions against the recording stand-ins, as /etc/rc.common
# would: `start` = procd_open_service NAME SCRIPT; start_service; procd_close_service,
# `stop` = stop_service; procd_kill NAME.
#
#   PROCD_RECORD=FILE [LG_CONF=…] [LG_UJAIL=…] [LG_USERS=…] sh run-init.sh INIT start|stop
#
# The system commands the script runs (logger, chown, chmod, mkdir, nft) are recorded to the
# same file instead of run; user_exists (from /lib/functions.sh) answers from LG_USERS. LG_CONF,
# LG_UJAIL and LG_CAPS replace the script's paths of the config, ujail and the capabilities
# file, so a test can say which exist.
set -eu
here=$(dirname "$0")
init="$1"
action="$2"
initscript=/etc/init.d/leakguard

# shellcheck disable=SC1091 # the stand-in is checked on its own
. "$here/procd-standin.sh"

user_exists() { case " ${LG_USERS:-} " in *" $1 "*) return 0 ;; esac; return 1; }
logger() { _procd_rec exec "logger $*" system; }
chown() { _procd_rec exec "chown $*" system; }
chmod() { _procd_rec exec "chmod $*" system; }
mkdir() { _procd_rec exec "mkdir $*" system; }
nft() { _procd_rec exec "nft $*" system; }

# rc.common's defaults, then the script.
start_service() { return 0; }
stop_service() { return 0; }
service_triggers() { return 0; }
# shellcheck disable=SC1090
. "$init"
# shellcheck disable=SC2034 # read by the init script's functions
[ -z "${LG_CONF:-}" ] || CONF="$LG_CONF"
# shellcheck disable=SC2034
[ -z "${LG_UJAIL:-}" ] || UJAIL="$LG_UJAIL"
# shellcheck disable=SC2034
[ -z "${LG_CAPS:-}" ] || CAPS="$LG_CAPS"

case "$action" in
	start)
		procd_open_service leakguard "$initscript"
		start_service
		procd_close_service set
		;;
	stop)
		stop_service
		procd_kill leakguard ""
		;;
	*) echo "run-init: unknown action $action" >&2; exit 2 ;;
esac
