#!/usr/bin/env bash
# check-symbols.sh LIBRARY... — every symbol a built libmoemap leaves visible to the
# programs that link it carries the public prefix `moemap_` (internals that must stay
# global for some reason carry `moemap__`, and docs/api.md lists them). For a static
# archive (.a) that is every defined global of its objects; for a shared library or
# module (.so) every dynamic export. Internals keep short names (mm_json_*, place_*,
# scheduler_* ...) because the build hides them: libmoemap.so by hidden visibility,
# libmoemap.a by being one relocatable object whose hidden symbols are made local
# (CMakeLists.txt). This check is what keeps that true; ctest runs it as check_symbols.
#
# check-symbols.sh --internal ARCHIVE SHARED: the other direction: every moemap_ global of
# the internal archive (moemap_internal, where internals stay global) is exported by the
# shared library, i.e. the public prefix is never worn by an internal function.
# Exit 0 when every library is clean, 1 naming each library and symbol that is not.
set -u
[ $# -gt 0 ] || { echo "usage: check-symbols.sh LIBRARY... | --internal ARCHIVE SHARED" >&2; exit 2; }
command -v nm >/dev/null || { echo "check-symbols: nm not found (binutils)"; exit 1; }
if [ "$1" = --internal ]; then
  [ $# -eq 3 ] || { echo "usage: check-symbols.sh --internal ARCHIVE SHARED" >&2; exit 2; }
  hidden=$(comm -13 <(nm -D --defined-only "$3" | awk 'NF == 3 {print $3}' | sort -u) \
                    <(nm -g --defined-only "$2" | awk 'NF == 3 {print $3}' | grep '^moemap_' | sort -u))
  if [ -n "$hidden" ]; then
    echo "check-symbols: $2: moemap_ functions that $3 does not export (internal ones take an"
    echo "  internal prefix such as mm_; public ones belong between MOEMAP_API_BEGIN/END):"
    printf '  %s\n' $hidden
    exit 1
  fi
  echo "check-symbols: every moemap_ global of $2 is exported by $3"
  exit 0
fi
status=0
for lib in "$@"; do
  if [ ! -f "$lib" ]; then echo "check-symbols: $lib: no such library"; status=1; continue; fi
  case $lib in
    *.a) syms=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 {print $3}') ;;
    *)   syms=$(nm -D --defined-only "$lib" 2>/dev/null | awk 'NF == 3 {print $3}') ;;
  esac
  total=$(printf '%s\n' "$syms" | grep -c '^moemap_')
  foreign=$(printf '%s\n' "$syms" | grep -v -e '^moemap_' -e '^$' | sort -u)
  if [ "$total" -eq 0 ]; then
    echo "check-symbols: $lib: no moemap_ symbol at all (is it a libmoemap build?)"; status=1
  elif [ -n "$foreign" ]; then
    echo "check-symbols: $lib: $(printf '%s\n' "$foreign" | wc -l) global symbol(s) without the moemap_ prefix:"
    printf '  %s\n' $foreign
    status=1
  else
    echo "check-symbols: $lib: $total global symbols, all moemap_"
  fi
done
exit $status
