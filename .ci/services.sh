#!/usr/bin/env bash
# Make sure the real services the integration tests talk to are up on 127.0.0.1:
# Mosquitto (1883) and PostgreSQL (5432, trust auth, database "test").  On the project's
# machines both already run; elsewhere install them from Debian's packages and start them.
# Exits 1, naming what is missing, when any of them (or a tool the tests run) is not there.
set -u

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

# The integration tests also start throwaway brokers (broker restarts, auth, TLS): they
# need the mosquitto and mosquitto_passwd binaries and openssl even when 1883 is served.
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || apt_install mosquitto \
  || echo "services: could not install mosquitto" >&2
command -v openssl >/dev/null 2>&1 || apt_install openssl || echo "services: could not install openssl" >&2
# The dashboard's browser tests drive Debian's Chromium through playwright (never
# 'playwright install': no browser download).
command -v chromium >/dev/null 2>&1 || apt_install chromium chromium-driver \
  || echo "services: could not install chromium" >&2

if ! port_open 1883; then
  command -v mosquitto >/dev/null 2>&1 || apt_install mosquitto || echo "services: could not install mosquitto" >&2
  if [ -f /etc/mosquitto/mosquitto.conf ]; then
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
  else
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\n' >/tmp/tankeco-mosquitto.conf
    mosquitto -d -c /tmp/tankeco-mosquitto.conf
  fi
  for _ in $(seq 50); do port_open 1883 && break; sleep 0.1; done
fi

if ! port_open 5432; then
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql || echo "services: could not install postgresql" >&2
  ver=$(ls /etc/postgresql 2>/dev/null | head -1)
  if [ -n "$ver" ]; then
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    grep -q '^local all all trust' "$hba" || sed -i '1i local all all trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 100); do port_open 5432 && break; sleep 0.1; done
    su postgres -c "psql -tAc \"select 1 from pg_database where datname='test'\"" | grep -q 1 \
      || su postgres -c "createdb test" || true
  fi
fi

# Report every requirement, then fail if any is missing: CI must not go on and have the
# tests that need it skip (.ci/run also sets TANKECO_REQUIRE_SERVICES=1 for the tests).
missing=0
have() {  # have WHAT CHECK...: print what is there, count what is not
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "services: $what"; else echo "services: $what NOT available" >&2; missing=$((missing + 1)); fi
}
have "mosquitto on 127.0.0.1:1883" port_open 1883
have "postgresql on 127.0.0.1:5432" port_open 5432
have "mosquitto binary" bash -c 'command -v mosquitto || test -x /usr/sbin/mosquitto'
have "mosquitto_passwd" bash -c 'command -v mosquitto_passwd || test -x /usr/bin/mosquitto_passwd'
have "openssl" command -v openssl
have "chromium" bash -c 'command -v chromium || test -x /usr/lib/chromium/chromium'
if [ "$missing" -gt 0 ]; then
  echo "services: $missing requirement(s) missing; the integration tests cannot run" >&2
  exit 1
fi
