# clusterdoctor. `make test` is the whole suite (as root it also runs the real-kernel and
# real-daemon tests in throwaway network namespaces); `make` builds the static binary.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

.PHONY: all build test deps fuzz bench bench-mcast clean packages

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o clusterdoctor ./cmd/clusterdoctor

deps:
	./.ci/deps

# staticcheck, pinned: its findings fail the suite as vet's do.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

test: deps
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -count=1 -timeout 20m ./...

# Coverage-guided runs of every fuzz target, FUZZTIME each (the seeds already run in
# `make test`).
FUZZTIME ?= 30s
fuzz:
	@for t in netcfg/hosts:FuzzParse netcfg/nsswitch:FuzzParseHosts netcfg/chronyconf:FuzzParse \
	          probes/ports:FuzzParseProcNet probes/ntp:FuzzDecodeFragment probes/tribes:FuzzDecode probes/mcast:FuzzDecode probes/mcast:FuzzDecodeInfo probes/mcast:FuzzDecodeStats \
	          netcfg/ifcfg:FuzzParse netcfg/nmkeyfile:FuzzParse netcfg/networkd:FuzzParse \
	          netcfg/netplan:FuzzParse netcfg/ifupdown:FuzzParse probes/firewall:FuzzParseRule \
	          netcfg/firewalld:FuzzParseZone netcfg/firewalld:FuzzParseService probes/firewall/nft:FuzzVerdictOf probes/firewall/xtables:FuzzDecide \
	          netcfg/gaiconf:FuzzParse probes/ajp:FuzzReadResponse netcfg/modjk:FuzzParse netcfg/httpd:FuzzParse netcfg/nginx:FuzzParse probes/web:FuzzRoutes netcfg/tomcat:FuzzParseXML netcfg/tomcat:FuzzParseProperties netcfg/tomcat:FuzzParseShell netcfg/tomcat:FuzzReplace netcfg/haproxy:FuzzParse probes/web:FuzzParseStat probes/web:FuzzParseJKStatus netcfg/ansible:FuzzParse probes/report:FuzzWrap probes/tomcat:FuzzParseUniqueID probes/tomcat:FuzzParseClass probes/igmp:FuzzParsePacket probes/web:FuzzParseBalancerManager; do \
	  $(GO) test ./$${t%%:*} -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) -timeout 0 || exit 1; done

# .deb and .rpm for amd64 and arm64 with man pages, completions and systemd units (dist/packages).
packages:
	./packaging/build.sh

bench: build
	./bench/preflight.sh

bench-mcast: build
	./bench/mcast.sh

clean:
	rm -f clusterdoctor
