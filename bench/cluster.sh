#!/usr/bin/env bash
# bench/cluster.sh: `clusterdoctor cluster` over ssh against the example Ansible playbook
# (preflight on every host, then mcast-test between them), on the test lab's healthy
# cluster (two real Tomcat 10.1, a web host with httpd and mod_jk, a real sshd in each
# namespace), from a seat of its own, in the same run (clusterdoctor copied to two hosts,
# then installed on all three as the playbook needs it); then with seven more hosts (sshd
# only) for ten. Prints per tool the wall time per run, and the seat's peak RSS (its ssh
# clients included). It is BenchmarkCluster in cmd/clusterdoctor; the lab removes every
# namespace, process and file it made.
# Needs root and what `make deps` installs (Tomcat 10, apache2, mod_jk, openssh, ansible-core).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/cluster.sh: needs root (network namespaces)" >&2; exit 2; }
export PATH="$PATH:/usr/local/go/bin"
go test -run '^$' -bench 'BenchmarkCluster' -benchtime "${BENCHTIME:-3x}" -timeout 30m ./cmd/clusterdoctor |
  grep -E '^(Benchmark|ok|FAIL|PASS)'
