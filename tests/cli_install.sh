#!/usr/bin/env bash
# cli_install.sh — the install test: `cmake --install` of this build into a temporary
# prefix puts every piece a C library ships in place (CLI, libmoemap.so with its soname,
# libmoemap.a, headers, moemap.pc, the CMake package, bash completion, man page); a small
# C program (tests/install/hello.c) builds and runs against it through pkg-config (shared
# and static) and through find_package(moemap); the shared library exports nothing but the
# moemap_ API; the completion completes commands and flags. Skips (77) in builds without
# the shared library (sanitizer and fuzz builds).
. "$(dirname "$0")/lib.sh"
build=$(cd "$(dirname "$bin")" && pwd)
src=$(pwd)
[ -e "$build/libmoemap.so" ] || { echo "SKIP: this build has no libmoemap.so"; exit 77; }
mm_tmp cli_install --clean
P=$tmp/prefix

cmake --install "$build" --prefix "$P" >"$tmp/install.log" 2>&1
check "cmake --install into a temporary prefix" test $? -eq 0
libdir=$(dirname "$(find "$P" -name 'libmoemap.so.0' | head -1)")
check "bin/moemap runs" "$P/bin/moemap" --version
check "libmoemap.so.0 (soname link) installed" test -e "$libdir/libmoemap.so.0"
check "libmoemap.so's soname is libmoemap.so.0" \
  bash -c "objdump -p '$libdir/libmoemap.so' | grep -q 'SONAME *libmoemap.so.0$'"
check "libmoemap.a installed" test -f "$libdir/libmoemap.a"
check "headers installed" test -f "$P/include/moemap.h" -a -f "$P/include/moemap/place.h"
check "moemap.pc installed" test -f "$libdir/pkgconfig/moemap.pc"
check "CMake package installed" test -f "$libdir/cmake/moemap/moemapConfig.cmake"
check "bash completion installed" test -f "$P/share/bash-completion/completions/moemap"
if command -v help2man >/dev/null; then
  check "man page installed" grep -q '^\.TH MOEMAP' "$P/share/man/man1/moemap.1"
fi

# Only the public API leaves the shared library (hidden visibility by default).
nm -D --defined-only "$libdir/libmoemap.so" | awk '{print $3}' > "$tmp/exported"
grep -v '^moemap_' "$tmp/exported" > "$tmp/foreign"
check "nm -D: $(wc -l <"$tmp/exported") symbols, all moemap_ ($(head -3 "$tmp/foreign" | tr '\n' ' '))" \
  test ! -s "$tmp/foreign" -a -s "$tmp/exported"
check "nm -D: internal place_eplb is not exported" bash -c "! grep -qx place_eplb '$tmp/exported'"
check "nm: the installed libmoemap.a shows only moemap_ globals (internals are local)" \
  bash "$src/scripts/check-symbols.sh" "$libdir/libmoemap.a"

# pkg-config, shared and static.
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -Wall -Wextra -o "$tmp/hello-pc" "$src/tests/install/hello.c" $(pkg-config --cflags --libs moemap) \
  -Wl,-rpath,"$libdir" >"$tmp/pc.log" 2>&1
check "hello.c builds through pkg-config" test $? -eq 0
check "... and runs against the installed libmoemap.so" \
  bash -c "'$tmp/hello-pc' | grep -q valid && ldd '$tmp/hello-pc' | grep -q '$libdir/libmoemap.so.0'"
cc -o "$tmp/hello-static" "$src/tests/install/hello.c" $(pkg-config --cflags moemap) \
  "$libdir/libmoemap.a" $(pkg-config --static --libs-only-l moemap | sed 's/-lmoemap//') >"$tmp/static.log" 2>&1
check "hello.c links statically with pkg-config --static's libraries" \
  bash -c "'$tmp/hello-static' | grep -q valid"

# find_package(moemap) -> moemap::moemap.
cmake -S "$src/tests/install" -B "$tmp/fp" -DCMAKE_PREFIX_PATH="$P" >"$tmp/fp.log" 2>&1 &&
  cmake --build "$tmp/fp" >>"$tmp/fp.log" 2>&1
check "hello.c builds through find_package(moemap)" test $? -eq 0
check "... and runs" bash -c "'$tmp/fp/hello' | grep -q valid"

# The completion answers from the binary's own --help.
cat > "$tmp/comp.sh" <<'SH'
source "$1/share/bash-completion/completions/moemap"
PATH=$1/bin:$PATH
read -r -a COMP_WORDS <<< "$2"
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_moemap
echo "${COMPREPLY[*]}"
SH
check "completion: 'moemap pl' -> place" test "$(bash "$tmp/comp.sh" "$P" "moemap pl")" = place
check "completion: 'moemap place --strat' -> --strategy" \
  test "$(bash "$tmp/comp.sh" "$P" "moemap place --strat")" = --strategy

mm_done
