#!/bin/sh
# Managed by lgsec (roles/web_integrity); local changes are overwritten.
# lgsec WEB-TAMPER (第84条(3)): compare the web roots with their AIDE baseline, report changes.
#   lgsec-web-aide check    compare; on a change: journal (priority alert, tag lgsec-web-tamper),
#                           mail to MAILTO when sendmail exists; exit status is aide's (non-zero)
#   lgsec-web-aide accept   after an approved content update: the current content becomes the baseline
#   lgsec-web-aide init     first baseline (run by the role)
set -u
CONFIG=/etc/aide/lgsec-web.conf
DATABASE=/var/lib/aide/lgsec-web.db
MAILTO=root
# shellcheck disable=SC1091
[ -r /etc/default/lgsec-web-aide ] && . /etc/default/lgsec-web-aide
TAG=lgsec-web-tamper
HOST=$(hostname)

log() { logger -t "$TAG" -p "auth.$1" -- "$2"; }

case "${1:-check}" in
init | accept)
    umask 077
    if ! aide --config "$CONFIG" --init >/dev/null; then
        log err "baseline of the web roots not written: aide --init failed"
        exit 1
    fi
    mv -f "$DATABASE.new" "$DATABASE"
    log notice "baseline of the web roots: $1 by ${SUDO_USER:-$(id -un)}; the content as it is now is the approved one"
    ;;
check)
    report=$(aide --config "$CONFIG" --check 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ]; then
        log info "web roots unchanged since the baseline"
        exit 0
    fi
    if [ "$rc" -ge 14 ]; then
        summary="web content check FAILED on $HOST (aide exit $rc)"
    else
        summary="web content CHANGED on $HOST (aide exit $rc)"
    fi
    log alert "$summary"
    # one journal line per added, removed or changed entry: "f > ... ....H : /var/www/html/index.html"
    printf '%s\n' "$report" | grep -E '^[a-zA-Z][ +<>=.-][^:]*: /' | while IFS= read -r line; do log alert "$line"; done
    if [ -n "$MAILTO" ] && [ -x /usr/sbin/sendmail ]; then
        # shellcheck disable=SC2086
        if { printf 'To: %s\nSubject: [lgsec WEB-TAMPER] %s\n\n' "$(echo $MAILTO | sed 's/ /, /g')" "$summary"
            printf '%s\n' "$report"; } | /usr/sbin/sendmail -oi -- $MAILTO; then
            log notice "report mailed to $MAILTO"
        else
            log err "report NOT mailed to $MAILTO: sendmail failed"
        fi
    else
        log warning "no sendmail on this host: the report is in the journal only (journalctl -t $TAG)"
    fi
    printf '%s\n' "$report"
    exit "$rc"
    ;;
*)
    echo "usage: $0 [check|accept|init]" >&2
    exit 64
    ;;
esac
