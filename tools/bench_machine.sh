#!/usr/bin/env bash
# One line saying where and when `make bench` ran: CPU, cores, kernel, compiler, date.
set -u
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
cc=$(${CC:-cc} --version 2>/dev/null | head -n 1)
printf 'on %s, %s cores, Linux %s, %s, %s\n' "${cpu:-an unknown CPU}" "$(nproc)" \
    "$(uname -r)" "${cc:-an unknown compiler}" "$(date -u +%Y-%m-%d)"
