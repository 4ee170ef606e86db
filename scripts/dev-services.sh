#!/usr/bin/env bash
# Installs and starts what the gateway and its tests need on Debian or Ubuntu: RabbitMQ, PostgreSQL,
# Chromium (the console's browser tests), poppler-utils (pdftotext, for the PDF tests) and the DejaVu
# fonts (the fallback documents). Run as root or with sudo; safe to run again. See README, "Set-up".
#
# PostgreSQL: the gateway connects over TCP as `postgres` without a password by default
# (DATABASE_URL=postgres://postgres@127.0.0.1:5432/svu). Debian's pg_hba.conf asks for a password
# (scram-sha-256) on TCP connections, so with SVU_DEV_TRUST=1 this script lets local TCP connections
# from 127.0.0.1/::1 in without one — for a development machine only. Otherwise set a password and
# put it in DATABASE_URL: sudo -u postgres psql -c "ALTER USER postgres PASSWORD 'secret'".
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

packages=(rabbitmq-server postgresql poppler-utils fonts-dejavu-core)
# Chromium: Debian packages it (`chromium`, /usr/bin/chromium, what the browser tests use by default).
# Ubuntu does not: its `chromium-browser` deb only installs the snap, which needs snapd (missing in
# containers, WSL and many servers). There the script installs Playwright's own Chromium for the user
# instead (`playwright-core install chromium`, a devDependency: run `npm ci` first), and the browser
# tests find it without settings. SVU_DEV_CHROMIUM=snap takes Ubuntu's snap anyway; =none skips it.
ubuntu=0
grep -qiE '^(ID|ID_LIKE)="?([a-z]+ )*ubuntu' /etc/os-release 2>/dev/null && ubuntu=1
chromium_mode="${SVU_DEV_CHROMIUM:-}"
[ -n "$chromium_mode" ] || { [ "$ubuntu" = 1 ] && chromium_mode=playwright || chromium_mode=apt; }
case "$chromium_mode" in
  apt) packages+=(chromium) ;;
  snap) packages+=(chromium-browser) ;;
  playwright|none) ;;
  *) echo "SVU_DEV_CHROMIUM must be apt, snap, playwright or none, got '$chromium_mode'" >&2; exit 1 ;;
esac
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}"

if [ "$chromium_mode" = playwright ]; then
  here="$(cd "$(dirname "$0")/.." && pwd)"
  cli="$here/node_modules/.bin/playwright-core"
  if [ -x "$cli" ]; then
    # The browser into the cache of the user who called sudo (the tests run as that user), its
    # system libraries with apt.
    if [ -n "${SUDO_USER:-}" ] && [ "$(id -u)" -eq 0 ]; then sudo -u "$SUDO_USER" "$cli" install chromium; else "$cli" install chromium; fi
    $SUDO "$cli" install-deps chromium
    echo "Chromium for the browser tests: Playwright's (found by the tests; CHROMIUM_PATH overrides)"
  else
    echo "Chromium NOT installed: on Ubuntu run 'npm ci' first, then this script again (it installs Playwright's Chromium)," >&2
    echo "or SVU_DEV_CHROMIUM=snap to take Ubuntu's snap, then CHROMIUM_PATH=/snap/bin/chromium for the tests." >&2
  fi
fi

start() {
  # systemd where there is one; otherwise (containers, WSL) the services' own start commands.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl enable --now "$1"
  else
    case "$1" in
      postgresql) $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true ;;
      rabbitmq-server) $SUDO rabbitmq-server -detached || true ;;
    esac
  fi
}
start postgresql
start rabbitmq-server

if [ "${SVU_DEV_TRUST:-0}" = "1" ]; then
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! $SUDO grep -q '# svu-dev-trust' "$hba"; then
    # First matching line wins: put the local TCP trust lines before Debian's scram-sha-256 lines.
    $SUDO sed -i '0,/^host/s//host    all all 127.0.0.1\/32 trust # svu-dev-trust\nhost    all all ::1\/128      trust # svu-dev-trust\nhost/' "$hba"
    $SUDO pg_ctlcluster "$version" main reload || $SUDO systemctl reload postgresql || true
  fi
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 1 60); do port_open 5432 && port_open 5672 && break; sleep 2; done
port_open 5432 && echo "PostgreSQL is up on 127.0.0.1:5432" || echo "PostgreSQL is NOT reachable"
port_open 5672 && echo "RabbitMQ is up on 127.0.0.1:5672 (guest/guest from this machine only)" || echo "RabbitMQ is NOT reachable"
# The e2e tests create a vhost per suite with rabbitmqctl: run them as a user that may (root, or in the rabbitmq group).
