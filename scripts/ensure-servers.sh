#!/usr/bin/env bash
# Start PostgreSQL, RabbitMQ and Redis on this machine when they are not answering, then wait.
set -euo pipefail

wait_for() { # name, command
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "ensure-servers: $name did not answer within 60 s" >&2
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  echo "ensure-servers: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! port_open 5672; then
  echo "ensure-servers: starting RabbitMQ"
  rabbitmq-server -detached
fi
if ! port_open 6379; then
  echo "ensure-servers: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
wait_for PostgreSQL port_open 5432
wait_for RabbitMQ port_open 5672
wait_for Redis port_open 6379
