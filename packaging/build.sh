#!/usr/bin/env bash
# Builds the packages: static binaries for amd64 and arm64, man pages and shell
# completions generated from the binary itself, then a .deb and an .rpm per
# architecture with nfpm, into dist/. Run from the repository root: make packages.
set -euo pipefail
# A version both dpkg and rpm accept: v1.2.3 -> 1.2.3; no tag -> 0.0.0~COMMIT; dashes -> +.
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null | sed 's/^v//; s/^\([^0-9]\)/0.0.0~\1/; s/-/+/g')}
DIST=${DIST:-dist}
NFPM_VERSION=v2.44.0 # later releases need modules the Go proxy no longer serves
export VERSION DIST
rm -rf "$DIST" && mkdir -p "$DIST/man" "$DIST/completions" "$DIST/packages"
for arch in amd64 arm64; do
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X main.version=$VERSION" -o "$DIST/$arch/clusterdoctor" ./cmd/clusterdoctor
done
host=$DIST/$(go env GOARCH)/clusterdoctor
"$host" man --dir "$DIST/man"
gzip -9n "$DIST"/man/*.1
"$host" completion bash >"$DIST/completions/clusterdoctor.bash"
"$host" completion zsh >"$DIST/completions/_clusterdoctor"
"$host" completion fish >"$DIST/completions/clusterdoctor.fish"
nfpm=$(go env GOPATH)/bin/nfpm-$NFPM_VERSION
if [ ! -x "$nfpm" ]; then
  tmp=$(mktemp -d)
  GOBIN=$tmp go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
  mkdir -p "$(dirname "$nfpm")" && mv "$tmp/nfpm" "$nfpm" && rmdir "$tmp"
fi
for arch in amd64 arm64; do
  # nfpm does not expand variables in contents: write the configuration out per arch.
  sed "s|\${ARCH}|$arch|g; s|\${DIST}|$DIST|g; s|\${VERSION}|$VERSION|g" packaging/nfpm.yaml >"$DIST/nfpm-$arch.yaml"
  for fmt in deb rpm; do
    "$nfpm" package --config "$DIST/nfpm-$arch.yaml" --packager "$fmt" --target "$DIST/packages/" >/dev/null
  done
done
ls "$DIST/packages"
