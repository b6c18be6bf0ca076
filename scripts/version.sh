#!/bin/sh
# version.sh - print kipc's version.  The one place it is kept is the first
# line of debian/changelog ("kipc (VERSION) ..."); the Makefile, the module
# builds (MODULE_VERSION), kipc.pc, libkipc and every tool's --version take
# it from here.  To release: add a changelog entry (dch -v NEW), nothing else.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
v=$(sed -n '1s/^kipc (\([^)]*\)).*/\1/p' "$top/debian/changelog")
if [ -z "$v" ]; then
	echo "version.sh: no 'kipc (VERSION)' on line 1 of debian/changelog" >&2
	exit 1
fi
echo "$v"
