#!/bin/sh
# Usage: tests/mirror-tree.sh DEST
# Copy the source files of this work tree (tracked and untracked, not
# ignored: no build products) into DEST, keeping their times, so that DEST
# can be configured and built on its own: automake refuses a VPATH build
# beside a source tree that is configured in place.  Run again to bring
# DEST up to date; make then rebuilds only what changed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dest=$1
mkdir -p "$dest"
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
	    tar --null -T - --ignore-failed-read -cf - 2>/dev/null |
	    tar -C "$dest" -xpf -
else
	tar --exclude=./build-asan --exclude=./build-fuzz --exclude=.git \
	    --exclude='*.o' --exclude='*.a' --exclude=Makefile \
	    --exclude=config.status --exclude=config.log -cf - . |
	    tar -C "$dest" -xpf -
fi
