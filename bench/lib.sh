# Sourced by the bench scripts.

# cluster_ns NAME: a network namespace with lo up and a cluster interface cl0 =
# 10.99.0.1/24 (a veth: no dummy module on every kernel) holding the multicast route.
cluster_ns() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  ip -n "$1" link add cl0 type veth peer name cl0-peer
  ip -n "$1" link set cl0-peer up
  ip -n "$1" addr add 10.99.0.1/24 dev cl0
  ip -n "$1" link set cl0 up
  ip -n "$1" route replace 224.0.0.0/4 dev cl0 scope link
}
