#!/bin/sh
# Start Alertmanager with the receiver URL from $ALERTMANAGER_WEBHOOK_URL, taken byte for byte.
#
#   sh render-config.sh TEMPLATE RENDERED ALERTMANAGER [ARGS...]
#
# Alertmanager does not expand variables in its config. TEMPLATE (infra/alertmanager/config.yml) ends with
# the receiver's `url: |2-`, a YAML literal block scalar: its content line is taken as it is, no character
# (& | \ $ # ' " or a space) has a meaning there. RENDERED is TEMPLATE with its last line, the placeholder
# content line, replaced by the URL written by printf '%s' (no substitution, no escaping needed), made
# readable by this user only; then ALERTMANAGER ARGS... --config.file=RENDERED is exec'ed. Compose puts
# RENDERED on a tmpfs (the URL is a secret: never on disk). Not webhook_config's url_file: Alertmanager
# before 0.26 (Debian 12's, which checks this config in the tests) has none. POSIX sh (busybox in the image).
set -eu

if [ "$#" -lt 3 ]; then
  echo "usage: sh $0 TEMPLATE RENDERED ALERTMANAGER [ARGS...]" >&2
  exit 2
fi
template=$1
rendered=$2
shift 2

placeholder='          http://alertmanager-webhook.invalid/'
url=${ALERTMANAGER_WEBHOOK_URL-}
nl='
'
cr=$(printf '\r')
case $url in
  '') echo "ALERTMANAGER_WEBHOOK_URL is empty: set it to the URL alerts are posted to" >&2; exit 1 ;;
  *"$nl"* | *"$cr"*) echo "ALERTMANAGER_WEBHOOK_URL contains a line break: a URL is one line" >&2; exit 1 ;;
esac
if [ "$(tail -n 1 "$template")" != "$placeholder" ]; then
  echo "$template: its last line must be the receiver URL placeholder '$placeholder'" >&2
  exit 1
fi

umask 077
tmp="$rendered.tmp.$$"
{
  sed '$d' "$template"
  printf '          %s\n' "$url"
} > "$tmp"
mv -f "$tmp" "$rendered"
exec "$@" --config.file="$rendered"
