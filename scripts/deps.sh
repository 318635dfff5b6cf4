#!/usr/bin/env bash
# deps.sh — installs what kiln needs on a fresh Debian 12 machine (a no-op where present).
set -euo pipefail
pkgs=(build-essential cmake pkgconf clang-14 llvm-14-dev lld-14 libclang-rt-14-dev libyaml-dev libpng-dev libjpeg-dev graphviz
      openmpi-bin libopenmpi-dev) # Open MPI: data-parallel training under mpirun (docs/distributed.md), dlopen'd
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
