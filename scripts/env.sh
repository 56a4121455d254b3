# shellcheck shell=bash
# Source this file (". scripts/env.sh") to get the project's tool environment:
#   - cargo-installed tools (trunk, wasm-bindgen) from ~/.cargo/bin
#   - npm-installed tools (wasm-opt from the `binaryen` package) from node_modules/.bin,
#     placed FIRST so Trunk never picks up Debian's broken binaryen 108 wasm-opt
#   - TRUNK_OFFLINE=true: Trunk must not try to download tools (GitHub is unreachable)
# Safe to source more than once.

GATEWAY_LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GATEWAY_LAB_ROOT

_gl_cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in
  *":$_gl_cargo_bin:"*) ;;
  *) PATH="$_gl_cargo_bin:$PATH" ;;
esac
case ":$PATH:" in
  *":$GATEWAY_LAB_ROOT/node_modules/.bin:"*) ;;
  *) PATH="$GATEWAY_LAB_ROOT/node_modules/.bin:$PATH" ;;
esac
export PATH
unset _gl_cargo_bin

export TRUNK_OFFLINE=true
# Trunk would otherwise ask GitHub whether a newer Trunk exists.
export TRUNK_SKIP_VERSION_CHECK=true
